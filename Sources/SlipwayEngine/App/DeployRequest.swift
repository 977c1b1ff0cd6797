import Foundation
import SlipwayCore

/// A request to roll out a new release of an app.
public struct DeployRequest: Sendable, Equatable, Codable {
    /// The candidate version (an A/B test's variant B).
    public var version: String
    /// More versions tested beside it in an A/B/n test (variants C, D, …), an `abTest` strategy only; each one's
    /// `env` is added to (or replaces) this request's `env` for its instances, so that variants of one version may
    /// differ by their settings.
    public var variants: [Release]
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
    /// What is shipped: commit, build, links, author (recorded with the rollout).
    public var release: ReleaseMetadata

    /// Creates a deploy request.
    public init(
        version: String,
        variants: [Release] = [],
        strategy: String? = nil,
        env: [String: String] = [:],
        supersede: Bool = false,
        force: Bool = false,
        by: String = "",
        reason: String? = nil,
        release: ReleaseMetadata = ReleaseMetadata()
    ) {
        self.version = version
        self.variants = variants
        self.strategy = strategy
        self.env = env
        self.supersede = supersede
        self.force = force
        self.by = by
        self.reason = reason
        self.release = release
    }

    private enum CodingKeys: String, CodingKey {
        case version, variants, strategy, env, supersede, force, by, reason, release
    }

    /// Decodes a request; `variants` may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            version: try container.decode(String.self, forKey: .version),
            variants: try container.decodeIfPresent([Release].self, forKey: .variants) ?? [],
            strategy: try container.decodeIfPresent(String.self, forKey: .strategy),
            env: try container.decodeIfPresent([String: String].self, forKey: .env) ?? [:],
            supersede: try container.decodeIfPresent(Bool.self, forKey: .supersede) ?? false,
            force: try container.decodeIfPresent(Bool.self, forKey: .force) ?? false,
            by: try container.decodeIfPresent(String.self, forKey: .by) ?? "",
            reason: try container.decodeIfPresent(String.self, forKey: .reason),
            release: try container.decodeIfPresent(ReleaseMetadata.self, forKey: .release) ?? ReleaseMetadata()
        )
    }

    /// Encodes the request, leaving `variants` out when there are none (a controller of an earlier version refuses
    /// fields it does not know).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        if !variants.isEmpty { try container.encode(variants, forKey: .variants) }
        try container.encodeIfPresent(strategy, forKey: .strategy)
        try container.encode(env, forKey: .env)
        try container.encode(supersede, forKey: .supersede)
        try container.encode(force, forKey: .force)
        try container.encode(by, forKey: .by)
        try container.encodeIfPresent(reason, forKey: .reason)
        if !release.isEmpty { try container.encode(release, forKey: .release) }
    }
}
