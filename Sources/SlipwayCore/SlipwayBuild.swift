/// The build of Slipway this process runs.
public enum SlipwayBuild {
    /// Its version. A controller, its data plane and their control protocol are told apart by it.
    public static let version = "0.7.0"
}
