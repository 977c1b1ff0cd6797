/// A loaded and validated configuration file.
public struct SlipwayConfig: Sendable, Equatable {
    /// The path of the configuration file, as it was given.
    public var file: String
    /// The absolute directory containing the file; relative paths in the file are resolved against it.
    public var baseDirectory: String
    /// The controller's settings.
    public var controller: ControllerSpec
    /// The apps, in the order of the file; with environments, one copy per environment that lists it, environment
    /// by environment.
    public var apps: [AppSpec]
    /// The environments releases go through, in the order written; empty when the file declares none.
    public var environments: [EnvironmentSpec]
    /// The machines apps may run on over SSH (key `hosts`), in the order written; empty when the file declares none.
    public var hosts: [HostSpec]
    /// How the controller reaches the Kubernetes cluster (key `kubernetes`); nil when no app runs there and the file
    /// does not say.
    public var kubernetes: ClusterSpec?

    /// Creates a configuration.
    public init(
        file: String,
        baseDirectory: String,
        controller: ControllerSpec,
        apps: [AppSpec],
        environments: [EnvironmentSpec] = [],
        hosts: [HostSpec] = [],
        kubernetes: ClusterSpec? = nil
    ) {
        self.kubernetes = kubernetes
        self.file = file
        self.baseDirectory = baseDirectory
        self.controller = controller
        self.apps = apps
        self.environments = environments
        self.hosts = hosts
    }

    /// The copies of the app written as `baseName` in `apps`, one per environment, in environment order.
    public func apps(baseName: String) -> [AppSpec] {
        apps.filter { $0.baseName == baseName }
    }

    /// The app called `named`, if there is one.
    public func app(named: String) -> AppSpec? {
        apps.first { $0.name == named }
    }
}
