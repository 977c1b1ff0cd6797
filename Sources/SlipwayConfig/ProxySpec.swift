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
    /// Outlier ejection and open circuits; nil (`outlierDetection: false`) turns them off. On by default.
    public var outlierDetection: OutlierDetectionSpec? = OutlierDetectionSpec()
    /// Retries and their budget.
    public var retries = RetrySpec()
    /// The waiting room; nil (the default) lets every request in.
    public var waitingRoom: WaitingRoomSpec?

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

/// When the proxy takes an instance out of rotation (key `proxy.outlierDetection`); `false` turns it off.
public struct OutlierDetectionSpec: Sendable, Equatable {
    /// Failed requests in a row (5xx, no connection, closed before answering, timed out) that eject an instance,
    /// 0...1000; 0 turns the rule off. Default 5.
    public var consecutiveFailures: Int
    /// How often success rates are compared and ejections looked at again, 100ms...1m. Default 1s.
    public var interval: Duration
    /// The first ejection's length, 100ms...1h; each further one lasts one more. Default 10s.
    public var baseEjectionTime: Duration
    /// The longest ejection, at least `baseEjectionTime`, at most 1h. Default 5m.
    public var maxEjectionTime: Duration
    /// The largest share of a version's instances out at once, whole percent 1...100. Default 50%.
    public var maxEjectedPercent: Int
    /// Requests an instance must answer in an interval for its success rate to count, 1...1000000; nil
    /// (`successRate: false`) turns the rule off. Default 20.
    public var successRateMinimumRequests: Int?
    /// How far below its siblings' success rate an instance must fall, whole percent 1...100. Default 30%.
    public var successRateDropPercent: Int
    /// The path probed before an ejected instance returns; nil probes the app's `health.path`.
    public var probePath: String?
    /// The time a probe has, 10ms...1m. Default 1s.
    public var probeTimeout: Duration

    /// Creates a policy; every parameter defaults to the value used when the key is absent.
    public init(
        consecutiveFailures: Int = 5,
        interval: Duration = .seconds(1),
        baseEjectionTime: Duration = .seconds(10),
        maxEjectionTime: Duration = .seconds(300),
        maxEjectedPercent: Int = 50,
        successRateMinimumRequests: Int? = 20,
        successRateDropPercent: Int = 30,
        probePath: String? = nil,
        probeTimeout: Duration = .seconds(1)
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxEjectedPercent = maxEjectedPercent
        self.successRateMinimumRequests = successRateMinimumRequests
        self.successRateDropPercent = successRateDropPercent
        self.probePath = probePath
        self.probeTimeout = probeTimeout
    }
}

/// When the proxy sends a request again (key `proxy.retries`).
public struct RetrySpec: Sendable, Equatable {
    /// Retries after the first attempt, 0...5. Default 2.
    public var attempts: Int
    /// What a retry may follow: `connect-failure`, `reset`, `timeout`, `gateway-error` (502, 503, 504), `5xx`.
    /// Default `[connect-failure, reset]`.
    public var on: [String]
    /// Retries as a share of the last 10 seconds' requests, whole percent 0...100. Default 20%.
    public var budgetPercent: Int
    /// Retries allowed per second whatever the traffic, 0...10000. Default 5.
    public var minimumPerSecond: Int
    /// The time one attempt has for its response head, 1ms...1h; nil (the default) leaves only `responseTimeout`.
    public var perTryTimeout: Duration?

    /// The conditions a retry may follow, in the order the documentation lists them.
    public static let conditions = ["connect-failure", "reset", "timeout", "gateway-error", "5xx"]

    /// Creates a policy; every parameter defaults to the value used when the key is absent.
    public init(
        attempts: Int = 2,
        on: [String] = ["connect-failure", "reset"],
        budgetPercent: Int = 20,
        minimumPerSecond: Int = 5,
        perTryTimeout: Duration? = nil
    ) {
        self.attempts = attempts
        self.on = on
        self.budgetPercent = budgetPercent
        self.minimumPerSecond = minimumPerSecond
        self.perTryTimeout = perTryTimeout
    }
}

/// An app's waiting room (key `proxy.waitingRoom`): at most so many requests in flight; the rest wait in line.
public struct WaitingRoomSpec: Sendable, Equatable {
    /// The limit: requests in flight to the app in all, or per instance in rotation.
    public enum Limit: Sendable, Equatable {
        case total(Int)
        case perInstance(Int)
    }

    /// Requests in flight (`maxInFlight`, or `maxInFlightPerInstance`), 1 to 1000000.
    public var limit: Limit
    /// The most requests waiting at once, 0 to 1000000. Default 1000.
    public var queue: Int
    /// How long a request may wait, 1ms to 1h. Default 10s.
    public var queueTimeout: Duration
    /// Whether browsers get a page with their place that asks again by itself. Default true.
    public var waitingPage: Bool
    /// How often that page asks again, 1s to 1m. Default 2s.
    public var pageRefresh: Duration

    /// Creates a waiting room; every parameter but the limit defaults to the value used when the key is absent.
    public init(
        limit: Limit,
        queue: Int = 1000,
        queueTimeout: Duration = .seconds(10),
        waitingPage: Bool = true,
        pageRefresh: Duration = .seconds(2)
    ) {
        self.limit = limit
        self.queue = queue
        self.queueTimeout = queueTimeout
        self.waitingPage = waitingPage
        self.pageRefresh = pageRefresh
    }
}
