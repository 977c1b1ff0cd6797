/// One HTTP service managed by Slipway: an entry of `apps`.
public struct AppSpec: Sendable, Equatable {
    /// The position of the app in `apps`, used in key paths like `apps[1].health`.
    public var index: Int
    /// The app's name: lowercase letters, digits and `-`, starting with a letter, at most 63 characters; unique.
    public var name: String
    /// The address users connect to; unique among apps and different from the controller's API address.
    public var listen: HostPort
    /// How many instances run at once, 1...1000.
    public var instances: Int
    /// The stable version to run: letters, digits, `.`, `_`, `+` and `-`, starting with a letter or digit.
    public var version: String
    /// How to start an instance.
    public var run: RunSpec
    /// How instances are health-checked.
    public var health: HealthCheckSpec
    /// How crashed instances are restarted.
    public var restart: RestartSpec
    /// How instance output is kept.
    public var logs: LogSpec
    /// How the app's listener treats connections and requests.
    public var proxy: ProxySpec
    /// How a new release replaces the stable one.
    public var strategy: StrategySpec
    /// How a candidate is judged on the proxy's metrics.
    public var analysis: AnalysisSpec
    /// What a new instance goes through before real traffic.
    public var warmup: WarmUpSpec
    /// Source position of every key seen under this app, by key path relative to the app:
    /// "" (the app mapping itself), "name", "run", "run.command", "run.command[0]", "health.interval",
    /// "proxy.idleTimeout", ...
    ///
    /// Each position is that of the key's value.
    public var locations: [String: SourceLocation]

    /// Creates an app; the optional sections default to the values used when their keys are absent.
    public init(
        index: Int,
        name: String,
        listen: HostPort,
        instances: Int,
        version: String,
        run: RunSpec,
        health: HealthCheckSpec = HealthCheckSpec(),
        restart: RestartSpec = RestartSpec(),
        logs: LogSpec = LogSpec(),
        proxy: ProxySpec = ProxySpec(),
        strategy: StrategySpec = StrategySpec(),
        analysis: AnalysisSpec = AnalysisSpec(),
        warmup: WarmUpSpec = WarmUpSpec(),
        locations: [String: SourceLocation] = [:]
    ) {
        self.index = index
        self.name = name
        self.listen = listen
        self.instances = instances
        self.version = version
        self.run = run
        self.health = health
        self.restart = restart
        self.logs = logs
        self.proxy = proxy
        self.strategy = strategy
        self.analysis = analysis
        self.warmup = warmup
        self.locations = locations
    }

    /// The full key path of a key under this app: `apps[2].health.interval` for `health.interval`,
    /// `apps[2]` for "".
    public func keyPath(_ relative: String) -> String {
        KeyPath.join("apps[\(index)]", relative)
    }

    /// The position of `relative` (a key path relative to the app), or of its nearest parent that has one,
    /// or of the app itself; 0:0 when nothing is known.
    public func location(_ relative: String) -> SourceLocation {
        var path = relative
        while true {
            if let location = locations[path] {
                return location
            }
            guard !path.isEmpty else { return .unknown }
            path = KeyPath.parent(of: path)
        }
    }
}
