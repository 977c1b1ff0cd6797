/// The keys allowed in one kind of mapping of the configuration file.
struct KeySchema {
    /// Keys Slipway reads, in the order they are listed in messages.
    let known: [String]
    /// Keys set aside for features to come: rejected with a specific message rather than as unknown keys.
    let reserved: [String]

    init(known: [String], reserved: [String] = []) {
        self.known = known
        self.reserved = reserved
    }

    /// The top level of the file.
    static let document = KeySchema(
        known: ["controller", "apps"],
        reserved: ["environments", "notifications", "windows"]
    )
    /// `controller`.
    static let controller = KeySchema(known: ["api", "stateDir", "token", "proxyThreads"])
    /// `controller.token`.
    static let token = KeySchema(known: ["env", "file"])
    /// An entry of `apps`.
    static let app = KeySchema(
        known: ["name", "listen", "instances", "version", "run", "health", "restart", "logs", "proxy"],
        reserved: ["strategy", "analysis", "warmup", "hooks", "notifications", "windows"]
    )
    /// `apps[n].run`.
    static let run = KeySchema(known: ["command", "env", "workingDir", "stopSignal", "stopGracePeriod"])
    /// `apps[n].health`.
    static let health = KeySchema(
        known: ["path", "interval", "timeout", "healthyThreshold", "unhealthyThreshold", "startDeadline"]
    )
    /// `apps[n].restart`.
    static let restart = KeySchema(known: ["initialBackoff", "maxBackoff", "resetAfter"])
    /// `apps[n].logs`.
    static let logs = KeySchema(known: ["maxBytes", "keep"])
    /// `apps[n].proxy`.
    static let proxy = KeySchema(
        known: [
            "maxConnections", "maxHeaderBytes", "maxRequestLineBytes", "idleTimeout", "headerTimeout", "connectTimeout",
            "responseTimeout", "drainTimeout", "upstreamConnections", "idleUpstreamConnections",
        ]
    )
}
