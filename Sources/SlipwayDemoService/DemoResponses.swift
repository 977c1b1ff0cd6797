/// Body of `GET /`: who answered, and how many requests this instance has counted.
public struct IdentityResponse: Codable, Equatable, Sendable {
    /// Application name.
    public var app: String
    /// Application version.
    public var version: String
    /// Instance identifier.
    public var instance: String
    /// Process identifier of the instance.
    public var pid: Int
    /// Number of this request among the instance's counted requests.
    public var request: Int
    /// What the call to the dependency came to (`answered 200`, `timed out: answered without it`); absent without
    /// a dependency.
    public var dependency: String?

    /// A body from its fields.
    public init(app: String, version: String, instance: String, pid: Int, request: Int, dependency: String? = nil) {
        self.app = app
        self.version = version
        self.instance = instance
        self.pid = pid
        self.request = request
        self.dependency = dependency
    }
}

/// Body of `GET /work`: who did the work, and for how long.
public struct WorkResponse: Codable, Equatable, Sendable {
    /// Application version.
    public var version: String
    /// Instance identifier.
    public var instance: String
    /// Milliseconds of work asked for and done.
    public var workedMs: Int

    /// A body from its fields.
    public init(version: String, instance: String, workedMs: Int) {
        self.version = version
        self.instance = instance
        self.workedMs = workedMs
    }
}
