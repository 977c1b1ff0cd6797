/// A stage a release goes through (dev, staging, prod): an entry of `environments`.
public struct EnvironmentSpec: Sendable, Equatable {
    /// The environment's name: lowercase letters, digits and `-`, starting with a letter.
    public var name: String
    /// The environment where a version must have been promoted before it may be deployed to this one.
    public var requires: String?
    /// The apps that run in it, by the names written in `apps`, in the order written.
    public var apps: [String]

    /// Creates an environment.
    public init(name: String, requires: String? = nil, apps: [String] = []) {
        self.name = name
        self.requires = requires
        self.apps = apps
    }
}
