import SlipwayConfig

/// What a release's Deployment is made of: the app's `kubernetes` settings and `health` check (its readiness probe),
/// besides its `run` (command, environment, stop grace period), which comes with each start.
public struct KubernetesWorkload: Sendable, Equatable {
    /// The app's name as Slipway knows it (`shop`, `shop@prod`).
    public var app: String
    /// The app's name as written in `apps` (`shop`), for `app.kubernetes.io/name`.
    public var baseName: String
    /// The app's `kubernetes` settings: namespace, image, port, resources, ServiceAccount, start timeout.
    public var settings: AppKubernetesSpec
    /// The app's health check, which becomes the readiness probe.
    public var health: HealthCheckSpec

    /// A workload.
    public init(
        app: String,
        baseName: String? = nil,
        settings: AppKubernetesSpec,
        health: HealthCheckSpec = HealthCheckSpec()
    ) {
        self.app = app
        self.baseName = baseName ?? app
        self.settings = settings
        self.health = health
    }

    /// The workload of `app`; nil when it does not run on Kubernetes.
    public init?(app: AppSpec) {
        guard let settings = app.kubernetes else { return nil }
        self.init(app: app.name, baseName: app.baseName, settings: settings, health: app.health)
    }

    /// The namespace of the app's objects.
    public var namespace: String { settings.namespace }
    /// The port the container serves on.
    public var port: Int { settings.port }
    /// How long a new pod may take to run.
    public var startTimeout: Duration { settings.startTimeout }

    /// The image of `version`.
    public func image(of version: String) -> String {
        settings.image.replacingOccurrences(of: "{version}", with: version)
    }
}
