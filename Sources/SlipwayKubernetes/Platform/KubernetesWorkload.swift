import SlipwayConfig

/// How an app runs on Kubernetes: what a release's Deployment is made of, besides the app's `run` (its command and
/// environment, its stop grace period) and `health` (its readiness probe).
public struct KubernetesWorkload: Sendable, Equatable {
    /// The app's name as Slipway knows it (`shop`, `shop@prod`).
    public var app: String
    /// The app's name as written in `apps` (`shop`), for `app.kubernetes.io/name`.
    public var baseName: String
    /// The namespace the app's objects live in.
    public var namespace: String
    /// The container image, with `{version}` in it (`registry.example/shop:{version}`).
    public var image: String
    /// The port the container serves on; `{port}` in the command and `PORT` in its environment. Default 8080.
    public var port: Int
    /// CPU and memory requests and limits, by name (`cpu: 250m`, `memory: 256Mi`); empty for none.
    public var requests: [String: String]
    /// The limits, likewise.
    public var limits: [String: String]
    /// The ServiceAccount pods run as; nil for the namespace's default.
    public var serviceAccount: String?
    /// `Always`, `IfNotPresent` or `Never`; nil for the cluster's default.
    public var imagePullPolicy: String?
    /// The app's health check, which becomes the readiness probe.
    public var health: HealthCheckSpec
    /// How long a new pod may take to be running (scheduled, its image pulled, its container started).
    public var startTimeout: Duration

    /// A workload; optional parts default to the values used when their keys are absent.
    public init(
        app: String,
        baseName: String? = nil,
        namespace: String,
        image: String,
        port: Int = 8080,
        requests: [String: String] = [:],
        limits: [String: String] = [:],
        serviceAccount: String? = nil,
        imagePullPolicy: String? = nil,
        health: HealthCheckSpec = HealthCheckSpec(),
        startTimeout: Duration = .seconds(300)
    ) {
        self.app = app
        self.baseName = baseName ?? app
        self.namespace = namespace
        self.image = image
        self.port = port
        self.requests = requests
        self.limits = limits
        self.serviceAccount = serviceAccount
        self.imagePullPolicy = imagePullPolicy
        self.health = health
        self.startTimeout = startTimeout
    }

    /// The image of `version`.
    public func image(of version: String) -> String {
        image.replacingOccurrences(of: "{version}", with: version)
    }
}
