/// How the controller reaches the Kubernetes cluster its apps with `platform: kubernetes` run on (the top-level
/// key `kubernetes`).
public struct ClusterSpec: Sendable, Equatable {
    /// The kubeconfig file, absolute (key `kubeconfig`, written relative to the file or with `~/`); nil for
    /// `$KUBECONFIG`, else `~/.kube/config`.
    public var kubeconfig: String?
    /// The kubeconfig context to use (key `context`); nil for its current context.
    public var context: String?
    /// Whether the controller runs in the cluster and uses its pod's ServiceAccount (key `inCluster`); default false.
    public var inCluster: Bool

    /// Creates cluster settings; the defaults are those used when the keys are absent.
    public init(kubeconfig: String? = nil, context: String? = nil, inCluster: Bool = false) {
        self.kubeconfig = kubeconfig
        self.context = context
        self.inCluster = inCluster
    }
}

/// How an app with `platform: kubernetes` runs there (the app's key `kubernetes`): each release is a Deployment of
/// `image` with the app's `run.command`, `run.env` and health check.
public struct AppKubernetesSpec: Sendable, Equatable {
    /// The namespace of the app's objects (key `namespace`, a DNS label); default `default`.
    public var namespace: String
    /// The container image, with `{version}` where the release goes (key `image`, required):
    /// `registry.example/shop:{version}`.
    public var image: String
    /// The port the container serves on (key `port`, 1–65535); `{port}` in `run.command` and `PORT`. Default 8080.
    public var port: Int
    /// Resource requests by name, `cpu` and `memory` (key `resources.requests`), as Kubernetes quantities.
    public var requests: [String: String]
    /// Resource limits likewise (key `resources.limits`).
    public var limits: [String: String]
    /// The ServiceAccount the pods run as (key `serviceAccount`); nil for the namespace's default.
    public var serviceAccount: String?
    /// `Always`, `IfNotPresent` or `Never` (key `imagePullPolicy`); nil for the cluster's default.
    public var imagePullPolicy: String?
    /// How long a new pod may take to run: scheduled, its image pulled, started (key `startTimeout`); default 5m.
    public var startTimeout: Duration

    /// Creates the settings; the defaults are those used when the keys are absent.
    public init(
        namespace: String = "default",
        image: String,
        port: Int = 8080,
        requests: [String: String] = [:],
        limits: [String: String] = [:],
        serviceAccount: String? = nil,
        imagePullPolicy: String? = nil,
        startTimeout: Duration = .seconds(300)
    ) {
        self.namespace = namespace
        self.image = image
        self.port = port
        self.requests = requests
        self.limits = limits
        self.serviceAccount = serviceAccount
        self.imagePullPolicy = imagePullPolicy
        self.startTimeout = startTimeout
    }
}
