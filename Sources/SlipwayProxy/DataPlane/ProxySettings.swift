import NIOCore

/// Limits and timeouts of one app's listener.
public struct ProxySettings: Sendable, Equatable {
    /// Concurrent client connections; more are closed as soon as they are accepted.
    public var maxConnections: Int
    /// Request line plus headers; a larger head is answered 431.
    public var maxHeaderBytes: Int
    /// The request line alone; a longer one is answered 414.
    public var maxRequestLineBytes: Int
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: TimeAmount
    /// A request head must arrive completely within this long of its first byte; otherwise 408.
    public var headerTimeout: TimeAmount
    /// Connecting to an instance.
    public var connectTimeout: TimeAmount
    /// From the request sent to the response head received; otherwise 504.
    public var responseTimeout: TimeAmount
    /// Open connections per instance per event loop; a request beyond them is answered 503.
    public var upstreamConnections: Int
    /// Idle keep-alive connections kept per instance per event loop.
    public var idleUpstreamConnections: Int
    /// Request targets of recent successful GET requests remembered for warm-up replay (see
    /// ``AppListener/recentRequests(limit:)``); 0 records none.
    public var replayBufferSize: Int
    /// Where each request is logged as a JSON line; nil writes no access log.
    public var accessLog: AccessLogSettings?
    /// When instances are ejected from rotation and versions' circuits open; nil turns outlier detection off.
    public var outliers: OutlierSettings?
    /// When requests are sent again, within a budget.
    public var retries: RetrySettings
    /// How many requests may be in flight, and how the rest wait; nil lets every request in.
    public var waitingRoom: WaitingRoomSettings?

    /// Settings with the documented defaults.
    public init(
        maxConnections: Int = 10_000,
        maxHeaderBytes: Int = 32 * 1024,
        maxRequestLineBytes: Int = 8 * 1024,
        idleTimeout: TimeAmount = .seconds(60),
        headerTimeout: TimeAmount = .seconds(10),
        connectTimeout: TimeAmount = .seconds(2),
        responseTimeout: TimeAmount = .seconds(30),
        upstreamConnections: Int = 256,
        idleUpstreamConnections: Int = 256,
        replayBufferSize: Int = 256,
        accessLog: AccessLogSettings? = nil,
        outliers: OutlierSettings? = OutlierSettings(),
        retries: RetrySettings = RetrySettings(),
        waitingRoom: WaitingRoomSettings? = nil
    ) {
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestLineBytes = maxRequestLineBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.upstreamConnections = upstreamConnections
        self.idleUpstreamConnections = idleUpstreamConnections
        self.replayBufferSize = replayBufferSize
        self.accessLog = accessLog
        self.outliers = outliers
        self.retries = retries
        self.waitingRoom = waitingRoom
    }
}
