/// What a new instance goes through before it takes real traffic (key `warmup`): synthetic requests, a replay of
/// the app's most recent real GET requests, then a slow-start ramp of its weight.
public struct WarmUpSpec: Sendable, Equatable {
    /// Synthetic requests: GETs of these paths, round-robin. Key `requests.paths`; each starts with `/`.
    public var paths: [String]
    /// How many synthetic requests in total (0 for none). Key `requests.count`; default 0.
    public var count: Int
    /// Keep sending synthetic requests for this long instead of a count (nil: by count). Key `requests.duration`.
    public var duration: Duration?
    /// Requests in flight at once during warm-up, 1...256. Key `concurrency`; default 4.
    public var concurrency: Int
    /// Replay up to this many of the app's most recent successful GET requests (method, path and query only).
    /// Key `replay`; 0 (default) for none.
    public var replay: Int
    /// After warm-up, the instance's weight grows linearly from 10% to 100% over this time (0 for none).
    /// Key `slowStart`; default 0.
    public var slowStart: Duration
    /// Warm-up that has not finished by then is cut short (the instance goes on). Key `timeout`; default 30s.
    public var timeout: Duration

    /// Creates warm-up settings; the defaults are those used when the keys are absent (no warm-up at all).
    public init(
        paths: [String] = [],
        count: Int = 0,
        duration: Duration? = nil,
        concurrency: Int = 4,
        replay: Int = 0,
        slowStart: Duration = .zero,
        timeout: Duration = .seconds(30)
    ) {
        self.paths = paths
        self.count = count
        self.duration = duration
        self.concurrency = concurrency
        self.replay = replay
        self.slowStart = slowStart
        self.timeout = timeout
    }

    /// Whether any request is sent before the instance takes traffic.
    public var sendsRequests: Bool { (!paths.isEmpty && (count > 0 || duration != nil)) || replay > 0 }
}
