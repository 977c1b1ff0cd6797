/// How an app's listener treats connections and requests (key `proxy`).
public struct ProxySpec: Sendable, Equatable {
    /// Concurrent client connections, 1...1000000; more are refused. Default 10000.
    public var maxConnections: Int
    /// The largest request head (request line and headers) in bytes, 1 KiB...64 KiB; a larger one is answered 431.
    /// Default 32 KiB.
    public var maxHeaderBytes: Int
    /// The longest request line in bytes, 256 bytes...64 KiB and at most `maxHeaderBytes`; a longer one is answered
    /// 414. Default 8 KiB.
    public var maxRequestLineBytes: Int
    /// A keep-alive connection with no request in progress is closed after this long; greater than 0. Default 60s.
    public var idleTimeout: Duration
    /// The time a client has to send a complete request head, or it is answered 408; greater than 0. Default 10s.
    public var headerTimeout: Duration
    /// The time to connect to an instance; greater than 0. Default 2s.
    public var connectTimeout: Duration
    /// The time from a request sent to an instance to its response head, or the request is answered 504; greater
    /// than 0. Default 30s.
    public var responseTimeout: Duration
    /// How long a removed instance may finish its in-flight requests before it is stopped anyway; 0 or more.
    /// Default 30s.
    public var drainTimeout: Duration
    /// Open connections per instance per proxy thread, 1...100000. Default 256.
    public var upstreamConnections: Int
    /// Idle keep-alive connections kept per instance per proxy thread, 0...`upstreamConnections`. Default 64.
    public var idleUpstreamConnections: Int
    /// The access log (one JSON object per request), size-capped and rotated; nil (the default) writes none.
    public var accessLog: AccessLogSpec?

    /// Creates proxy settings; every parameter defaults to the value used when the key is absent.
    public init(
        maxConnections: Int = 10_000,
        maxHeaderBytes: Int = 32 << 10,
        maxRequestLineBytes: Int = 8 << 10,
        idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(2),
        responseTimeout: Duration = .seconds(30),
        drainTimeout: Duration = .seconds(30),
        upstreamConnections: Int = 256,
        idleUpstreamConnections: Int? = nil
    ) {
        self.maxConnections = maxConnections
        self.maxHeaderBytes = maxHeaderBytes
        self.maxRequestLineBytes = maxRequestLineBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.drainTimeout = drainTimeout
        self.upstreamConnections = upstreamConnections
        // Unless said otherwise, every connection may stay open for reuse: fewer would make the proxy close and
        // reopen connections under any load above the idle count.
        self.idleUpstreamConnections = idleUpstreamConnections ?? upstreamConnections
    }
}

/// How an app's access log is kept (key `proxy.accessLog`): `true` for the defaults, or the sizes.
public struct AccessLogSpec: Sendable, Equatable {
    /// The size at which the file is rotated, from 4 KiB to 1 GiB. Default 64 MiB.
    public var maxBytes: Int
    /// How many rotated files are kept beside the current one, 0...20. Default 5.
    public var keep: Int

    /// Creates an access log policy; every parameter defaults to the value used when the key is absent.
    public init(maxBytes: Int = 64 << 20, keep: Int = 5) {
        self.maxBytes = maxBytes
        self.keep = keep
    }
}
