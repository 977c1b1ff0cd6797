import Foundation

/// A request to roll out a new release of an app.
public struct DeployRequest: Sendable, Equatable, Codable {
    /// The candidate version.
    public var version: String
    /// Another strategy than the app's configured one: `recreate`, `rolling`, `blueGreen` or `canary` (the
    /// strategy's settings come from the config when it configures that strategy, else its defaults).
    public var strategy: String?
    /// Environment variables added to (or replacing) the app's `run.env` for the candidate's instances.
    public var env: [String: String]
    /// Abort a running rollout first instead of refusing.
    public var supersede: Bool
    /// Go ahead against the deploy windows and the environment requirement; needs a `reason`, and is recorded
    /// and notified.
    public var force: Bool
    /// Who asked (a user name; defaults to the OS user of the CLI).
    public var by: String
    /// Why, in the user's words.
    public var reason: String?

    /// Creates a deploy request.
    public init(
        version: String,
        strategy: String? = nil,
        env: [String: String] = [:],
        supersede: Bool = false,
        force: Bool = false,
        by: String = "",
        reason: String? = nil
    ) {
        self.version = version
        self.strategy = strategy
        self.env = env
        self.supersede = supersede
        self.force = force
        self.by = by
        self.reason = reason
    }
}
