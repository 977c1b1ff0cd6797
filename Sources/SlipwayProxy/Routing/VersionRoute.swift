/// One version's share of traffic and its instances.
public struct VersionRoute: Sendable {
    /// The version's name, e.g. `1.4.0`.
    public var version: String
    /// The share of traffic in basis points, 0...10000.
    public var weight: Int
    /// The instances serving this version.
    public var instances: [UpstreamInstance]

    /// Creates a version's route.
    public init(version: String, weight: Int, instances: [UpstreamInstance]) {
        self.version = version
        self.weight = weight
        self.instances = instances
    }
}
