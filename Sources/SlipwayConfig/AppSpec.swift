/// One HTTP service managed by Slipway: an entry of `apps`.
public struct AppSpec: Sendable, Equatable {
    /// The position of the app in `apps`, used in key paths like `apps[1].health`.
    public var index: Int
    /// The app's name: lowercase letters, digits and `-`, starting with a letter, at most 63 characters; unique.
    ///
    /// In a configuration with `environments`, each app runs once per environment that lists it, named
    /// `<app>@<environment>` (`shop@prod`): that is the name events, the API and the CLI use.
    public var name: String
    /// The name written in `apps` (equal to ``name`` when there are no environments).
    public var baseName: String
    /// The environment this copy of the app runs in; nil when the configuration declares none.
    public var environment: String?
    /// The environment in which a version must have been promoted before it may be deployed here.
    public var requires: String?
    /// The address users connect to; unique among apps and different from the controller's API address.
    public var listen: HostPort
    /// How many instances run at once, 1...1000, on every host together (`instances` in the file counts on each
    /// host of ``hosts``).
    public var instances: Int
    /// The hosts the app runs on, by name (key `hosts`), in the order written; empty when it runs on the
    /// controller's machine.
    public var hosts: [String]
    /// How the app runs on Kubernetes, when it does (`platform: kubernetes`); nil on this machine or its hosts.
    public var kubernetes: AppKubernetesSpec?
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
    /// Commands and webhook gates run around rollouts.
    public var hooks: HooksSpec
    /// When deploys are allowed: the app's own `windows`, its environment's and the top level's, as written (a
    /// deploy must fit all of them).
    public var windows: [DeployWindowsSpec]
    /// Where notices about the app go: the app's own channels, its environment's and the top level's.
    public var notifications: [NotificationChannelSpec]
    /// The app's chaos monkey; nil when the app has not opted in.
    public var monkey: MonkeySpec?
    /// The key path of the app itself: `apps[2]`, or `environments.prod.apps.shop` for a copy in an environment.
    public var path: String
    /// Source position of every key seen under this app, by key path relative to the app:
    /// "" (the app mapping itself), "name", "run", "run.command", "run.command[0]", "health.interval",
    /// "proxy.idleTimeout", ...
    ///
    /// Each position is that of the key's value.
    public var locations: [String: SourceLocation]

    /// Creates an app; the optional sections default to the values used when their keys are absent.
    /// With an `environment`, `name` is the name written in `apps`, and the app is called `<name>@<environment>`.
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
        hooks: HooksSpec = HooksSpec(),
        windows: [DeployWindowsSpec] = [],
        notifications: [NotificationChannelSpec] = [],
        monkey: MonkeySpec? = nil,
        hosts: [String] = [],
        environment: String? = nil,
        requires: String? = nil,
        kubernetes: AppKubernetesSpec? = nil,
        locations: [String: SourceLocation] = [:]
    ) {
        self.kubernetes = kubernetes
        self.index = index
        self.name = environment.map { "\(name)@\($0)" } ?? name
        self.baseName = name
        self.environment = environment
        self.requires = requires
        self.hooks = hooks
        self.windows = windows
        self.notifications = notifications
        self.monkey = monkey
        self.hosts = hosts
        self.path = Self.path(name: name, environment: environment, index: index)
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

    /// The key path of the app written `index`th in `apps` as `name`: `apps[2]`, or `environments.prod.apps.shop`
    /// for its copy in an environment.
    public static func path(name: String, environment: String?, index: Int) -> String {
        environment.map { "environments.\($0).apps.\(name)" } ?? "apps[\(index)]"
    }

    /// The full key path of a key under this app: `apps[2].health.interval` for `health.interval`,
    /// `apps[2]` for "" (under `environments.<env>.apps.<app>` for a copy in an environment).
    public func keyPath(_ relative: String) -> String {
        KeyPath.join(path, relative)
    }

    /// How many instances run on each of ``hosts`` (all of ``instances`` without hosts).
    public var instancesPerHost: Int { hosts.isEmpty ? instances : instances / hosts.count }

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
