/// Which requests a route table copies to another version (shadow traffic), and which copies it skips.
///
/// A copy goes to an instance of ``version`` after the original's request is read in full; its response is read and
/// dropped, and never delays the original's. Requests the table sends to ``version`` itself are never copied.
public struct TrafficMirror: Sendable, Equatable {
    /// The version the copies go to.
    public var version: String
    /// The share of eligible requests copied, in basis points (1...10000).
    public var share: Int
    /// The methods copied, upper case as sent (`GET`, `HEAD` by default).
    public var methods: Set<String>
    /// The largest request body copied, in bytes as the request carries it (chunk framing included); a request with
    /// a larger body is not copied. 0 copies only requests without a body.
    public var maxBodyBytes: Int

    /// The methods copied unless told otherwise: those that change nothing on the server.
    public static let defaultMethods: Set<String> = ["GET", "HEAD"]
    /// The largest body copied unless told otherwise.
    public static let defaultMaxBodyBytes = 64 * 1024

    /// Creates a mirror.
    public init(
        version: String,
        share: Int,
        methods: Set<String> = TrafficMirror.defaultMethods,
        maxBodyBytes: Int = TrafficMirror.defaultMaxBodyBytes
    ) {
        self.version = version
        self.share = share
        self.methods = methods
        self.maxBodyBytes = maxBodyBytes
    }
}
