/// The keys allowed in one kind of mapping of the configuration file.
struct KeySchema {
    /// Keys Slipway reads, in the order they are listed in messages.
    let known: [String]

    /// The top level of the file.
    static let document = KeySchema(
        known: ["controller", "hosts", "kubernetes", "apps", "environments", "windows", "notifications", "chaos"]
    )
    /// `controller`.
    static let controller = KeySchema(
        known: ["api", "stateDir", "token", "proxyThreads", "dashboardURL", "prometheus", "tracing"]
    )
    /// `controller.prometheus` written as a mapping.
    static let prometheus = KeySchema(known: ["url", "timeout"])
    /// `controller.tracing`.
    static let tracing = KeySchema(known: ["endpoint", "sampleRatio", "serviceName", "protocol"])
    /// `controller.token`.
    static let token = KeySchema(known: ["env", "file"])
    /// An entry of `apps`.
    static let app = KeySchema(
        known: [
            "name", "listen", "instances", "version", "run", "health", "restart", "logs", "proxy", "strategy",
            "analysis", "warmup", "hooks", "windows", "notifications", "chaos", "hosts", "platform", "kubernetes",
        ]
    )
    /// The top-level `kubernetes`.
    static let cluster = KeySchema(known: ["kubeconfig", "context", "inCluster"])
    /// `apps[n].kubernetes`.
    static let appKubernetes = KeySchema(
        known: ["image", "namespace", "port", "resources", "serviceAccount", "imagePullPolicy", "startTimeout"]
    )
    /// `apps[n].kubernetes.resources`.
    static let resources = KeySchema(known: ["requests", "limits"])
    /// `apps[n].kubernetes.resources.requests` and `limits`.
    static let quantities = KeySchema(known: ["cpu", "memory"])
    /// An entry of the top-level `hosts`.
    static let host = KeySchema(
        known: ["name", "address", "port", "user", "identityFile", "knownHostsFile", "hostKeys", "directory"]
    )
    /// `apps[n].run`.
    static let run = KeySchema(known: ["command", "env", "workingDir", "stopSignal", "stopGracePeriod", "artifact"])
    /// `apps[n].health`.
    static let health = KeySchema(
        known: ["path", "interval", "timeout", "healthyThreshold", "unhealthyThreshold", "startDeadline"]
    )
    /// `apps[n].restart`.
    static let restart = KeySchema(known: ["initialBackoff", "maxBackoff", "resetAfter", "every", "window"])
    /// `apps[n].logs`.
    static let logs = KeySchema(known: ["maxBytes", "keep"])
    /// `apps[n].proxy`.
    static let proxy = KeySchema(
        known: [
            "maxConnections", "maxHeaderBytes", "maxRequestLineBytes", "idleTimeout", "headerTimeout", "connectTimeout",
            "responseTimeout", "drainTimeout", "upstreamConnections", "idleUpstreamConnections", "accessLog",
            "outlierDetection", "retries", "waitingRoom",
        ]
    )
    /// `apps[n].proxy.outlierDetection`, as a mapping.
    static let outlierDetection = KeySchema(
        known: [
            "consecutiveFailures", "interval", "baseEjectionTime", "maxEjectionTime", "maxEjectedPercent",
            "successRate", "probe",
        ]
    )
    /// `apps[n].proxy.outlierDetection.successRate`, as a mapping.
    static let successRate = KeySchema(known: ["minimumRequests", "drop"])
    /// `apps[n].proxy.outlierDetection.probe`.
    static let outlierProbe = KeySchema(known: ["path", "timeout"])
    /// `apps[n].proxy.waitingRoom`.
    static let waitingRoom = KeySchema(
        known: ["maxInFlight", "maxInFlightPerInstance", "queue", "queueTimeout", "waitingPage", "pageRefresh"]
    )
    /// `apps[n].proxy.retries`.
    static let retries = KeySchema(known: ["attempts", "on", "budget", "minimumPerSecond", "perTryTimeout"])
    /// `apps[n].proxy.accessLog`, as a mapping.
    static let accessLog = KeySchema(known: ["maxBytes", "keep"])
    /// `apps[n].strategy`: one strategy key and the limits shared by all strategies.
    static let strategy = KeySchema(
        known: ["recreate", "rolling", "blueGreen", "canary", "abTest", "progressDeadline", "maxDuration", "mirror"]
    )
    /// `apps[n].strategy.rolling`.
    static let rolling = KeySchema(known: ["maxSurge", "maxUnavailable", "analysis"])
    /// `apps[n].strategy.blueGreen`.
    static let blueGreen = KeySchema(
        known: ["previewListen", "autoPromote", "scaleDownDelay", "prePromotion", "postPromotion"]
    )
    /// `apps[n].strategy.canary`.
    static let canary = KeySchema(known: ["steps", "instances", "match", "stickiness"])
    /// An entry of `apps[n].strategy.canary.steps`.
    static let canaryStep = KeySchema(known: ["weight", "pause", "analysis", "mirror", "chaos"])
    /// `chaos:` in `apps[n].strategy.canary.steps`.
    static let chaosStep = KeySchema(known: ["fault", "app", "before", "duration", "tolerance"])
    /// `fault` in a chaos step.
    static let chaosFault = KeySchema(
        known: ["kind", "status", "delay", "jitter", "bytesPerSecond", "share", "path", "method", "header"]
    )
    /// `fault.header` in a chaos step.
    static let chaosHeader = KeySchema(known: ["name", "value"])
    /// `tolerance` in a chaos step.
    static let chaosTolerance = KeySchema(known: ["errors", "latency"])
    /// A mirror step: `strategy.mirror`, or `mirror:` in `strategy.canary.steps`.
    static let mirrorStep = KeySchema(
        known: ["share", "duration", "windows", "failureLimit", "checks", "methods", "maxBody"]
    )
    /// `apps[n].strategy.abTest`.
    static let abTest = KeySchema(
        known: [
            "weight", "instances", "match", "stickiness", "goals", "alpha", "minimumEffect", "duration", "sampleSize",
            "stopOnDecision",
        ]
    )
    /// An entry of `apps[n].strategy.abTest.goals` written as a mapping.
    static let experimentGoal = KeySchema(known: ["outcome", "metric", "query", "name", "better", "minimumEffect"])
    /// An entry of `apps[n].strategy.canary.match`.
    static let matchRule = KeySchema(known: ["header", "cookie"])
    /// `header` in a match rule.
    static let headerMatch = KeySchema(known: ["name", "value", "pattern"])
    /// `cookie` in a match rule.
    static let cookieMatch = KeySchema(known: ["name", "value"])
    /// `apps[n].strategy.canary.stickiness`.
    static let stickiness = KeySchema(known: ["cookie", "header"])
    /// `apps[n].analysis`.
    static let analysis = KeySchema(known: ["interval", "minRequests", "checks", "failFast", "compare", "alpha"])
    /// An entry of `apps[n].analysis.compare` written as a mapping.
    static let comparison = KeySchema(known: ["metric", "maxIncrease", "minRequests", "slowerThan"])
    /// An analysis step: canary `analysis` steps, `rolling.analysis`, `blueGreen.prePromotion` and `postPromotion`.
    static let analysisStep = KeySchema(known: ["windows", "failureLimit", "checks"])
    /// A check written as a mapping.
    static let check = KeySchema(known: ["check", "minRequests", "query", "max", "min", "name"])
    /// `apps[n].warmup`.
    static let warmUp = KeySchema(known: ["requests", "concurrency", "replay", "slowStart", "timeout"])
    /// `apps[n].warmup.requests`.
    static let warmUpRequests = KeySchema(known: ["paths", "count", "duration"])
}
