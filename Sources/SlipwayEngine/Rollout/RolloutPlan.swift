import SlipwayConfig
import SlipwayCore

/// One version of an app and what runs it beyond the app's own `run` section.
public struct Release: Sendable, Equatable, Hashable, Codable {
    /// The version string.
    public var version: String
    /// Environment variables added to the app's `run.env` for this release's instances.
    public var env: [String: String]

    /// Creates a release.
    public init(version: String, env: [String: String] = [:]) {
        self.version = version
        self.env = env
    }
}

/// Everything a ``RolloutMachine`` needs to know before it begins: who moves what to what, and how.
public struct RolloutPlan: Sendable, Equatable {
    /// Why the rollout exists.
    public enum Purpose: String, Sendable, Equatable {
        /// A user deployed a new release.
        case deploy
        /// A user asked for every instance to be replaced (same release), one at a time.
        case restart
        /// A user asked to go back to an earlier release after a promotion: all at once, no analysis.
        case rollback
    }

    /// The app.
    public var app: String
    /// The rollout's number within the app.
    public var number: Int
    /// Why the rollout exists.
    public var purpose: Purpose
    /// The release taking traffic when the rollout begins.
    public var stable: Release
    /// The release rolled out.
    public var candidate: Release
    /// The other variants of an A/B/n test (C, D, …), run beside the candidate (B) until a person chooses one; empty
    /// for any other rollout. Choosing one makes it the candidate, and the candidate one of these.
    public var challengers: [Release]
    /// The app's instance count.
    public var instances: Int
    /// The strategy (for `restart` and `rollback`, the machine uses its own fixed steps).
    public var strategy: StrategySpec
    /// How the candidate is judged.
    public var analysis: AnalysisSpec
    /// Whether new instances are warmed up before they take traffic.
    public var warmUp: Bool
    /// How failing stable instances are replaced during the rollout.
    public var backoff: CrashBackoff
    /// Who started it, and why.
    public var by: String
    public var reason: String?
    /// What the candidate is: commit, build, links, author (a deploy's, recorded in `rolloutStarted`).
    public var release: ReleaseMetadata
    /// The names of the hooks at each point that has some (the executor runs them; the machine waits for the
    /// `preDeploy` and `prePromotion` ones and asks for the others).
    public var hooks: [HookPoint: [String]]

    /// Creates a plan.
    public init(
        app: String,
        number: Int,
        purpose: Purpose = .deploy,
        stable: Release,
        candidate: Release,
        challengers: [Release] = [],
        instances: Int,
        strategy: StrategySpec,
        analysis: AnalysisSpec = AnalysisSpec(),
        warmUp: Bool = false,
        backoff: CrashBackoff = CrashBackoff(initial: .seconds(1), maximum: .seconds(30)),
        by: String = "",
        reason: String? = nil,
        release: ReleaseMetadata = ReleaseMetadata(),
        hooks: [HookPoint: [String]] = [:]
    ) {
        self.app = app
        self.number = number
        self.purpose = purpose
        self.stable = stable
        self.candidate = candidate
        self.challengers = challengers
        self.instances = instances
        self.strategy = strategy
        self.analysis = analysis
        self.warmUp = warmUp
        self.backoff = backoff
        self.by = by
        self.reason = reason
        self.release = release
        self.hooks = hooks.filter { !$0.value.isEmpty }
    }

    /// The strategy's name as events and summaries show it.
    public var strategyName: String {
        switch purpose {
        case .deploy: return strategy.name
        case .restart: return "rolling restart"
        case .rollback: return "rollback"
        }
    }

    /// Whether the candidate is judged on its own metrics (not when it runs the stable version).
    var judgesCandidate: Bool { purpose == .deploy && candidate.version != stable.version }
}
