/// How the controller decides whether an instance is healthy (key `health`).
public struct HealthCheckSpec: Sendable, Equatable {
    /// The HTTP path probed on each instance; starts with `/`. Default `/healthz`.
    public var path: String
    /// Time between two probes of one instance; greater than 0. Default 1s.
    public var interval: Duration
    /// How long a probe may take before it counts as a failure; greater than 0 and at most `interval`. Default 500ms.
    public var timeout: Duration
    /// Consecutive successful probes for an instance to become healthy, 1...100. Default 1.
    public var healthyThreshold: Int
    /// Consecutive failed probes for an instance to become unhealthy, 1...100. Default 3.
    public var unhealthyThreshold: Int
    /// An instance that is not healthy this long after it started has failed to start; greater than 0. Default 30s.
    public var startDeadline: Duration

    /// Creates a health check; every parameter defaults to the value used when the key is absent.
    public init(
        path: String = "/healthz",
        interval: Duration = .seconds(1),
        timeout: Duration = .milliseconds(500),
        healthyThreshold: Int = 1,
        unhealthyThreshold: Int = 3,
        startDeadline: Duration = .seconds(30)
    ) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.healthyThreshold = healthyThreshold
        self.unhealthyThreshold = unhealthyThreshold
        self.startDeadline = startDeadline
    }
}
