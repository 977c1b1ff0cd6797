/// A request that got a 5xx: what a rollout report shows of a failing version. Never a body, a query string, a
/// cookie or any other header: a path is kept without its query, which is where secrets travel in URLs.
public struct FailedRequest: Sendable, Equatable, Codable {
    /// When the response ended, in nanoseconds since 1970 (the cursor a reader passes to get the later ones).
    public var timeNs: Int64
    /// The version and the instance that answered (the instance the proxy tried last).
    public var version: String
    public var instance: String
    /// The request's method and path (without the query).
    public var method: String
    public var path: String
    /// What the client got, and after how long, in milliseconds.
    public var status: Int
    public var latencyMs: Double
    /// The request's `X-Request-Id` (the client's, or the one the proxy gave it).
    public var requestID: String
    /// Set when the proxy made the response itself: why (connect failure, timeout).
    public var proxyError: String?

    /// Creates a record.
    public init(
        timeNs: Int64,
        version: String,
        instance: String,
        method: String,
        path: String,
        status: Int,
        latencyMs: Double,
        requestID: String,
        proxyError: String? = nil
    ) {
        self.timeNs = timeNs
        self.version = version
        self.instance = instance
        self.method = method
        self.path = path
        self.status = status
        self.latencyMs = latencyMs
        self.requestID = requestID
        self.proxyError = proxyError
    }
}
