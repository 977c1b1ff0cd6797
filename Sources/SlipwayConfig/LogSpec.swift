/// How the output of instances is kept on disk (key `logs`).
public struct LogSpec: Sendable, Equatable {
    /// The size at which a log file is rotated, from 4 KiB to 1 GiB. Default 10 MiB.
    public var maxBytes: Int
    /// How many rotated files are kept beside the current one, 0...20. Default 2.
    public var keep: Int

    /// The smallest accepted `maxBytes`: 4 KiB.
    public static let minimumMaxBytes = 4 << 10
    /// The largest accepted `maxBytes`: 1 GiB.
    public static let maximumMaxBytes = 1 << 30

    /// Creates a log policy; every parameter defaults to the value used when the key is absent.
    public init(maxBytes: Int = 10 << 20, keep: Int = 2) {
        self.maxBytes = maxBytes
        self.keep = keep
    }
}
