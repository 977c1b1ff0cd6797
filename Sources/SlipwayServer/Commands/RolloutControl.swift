import Foundation
import SlipwayCore
import SlipwayEngine

/// Why a command was not carried out. Nothing changed.
public struct CommandRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of refusal, which the API maps to a status code and the CLI to an exit code.
    public enum Code: String, Sendable, Codable {
        /// The request itself is wrong (unknown strategy, bad version string): 400, exit 2.
        case badRequest
        /// No such app or version: 404, exit 2.
        case notFound
        /// The command does not fit the app's state (a rollout is running, nothing to promote): 409, exit 1.
        case conflict
        /// The app's deploy windows do not allow a deploy now: 423, exit 3.
        case deployWindow
    }

    /// The kind of refusal.
    public var code: Code
    /// What was wrong and what would be accepted.
    public var message: String
    /// For ``Code/deployWindow``: the earliest time a deploy is allowed, when there is one.
    public var nextAllowed: Date?

    /// Creates a refusal.
    public init(_ code: Code, _ message: String, nextAllowed: Date? = nil) {
        self.code = code
        self.message = message
        self.nextAllowed = nextAllowed
    }

    public var description: String { message }
}

/// Where a rollout stands, as the API and `deploy --wait` report it.
public struct RolloutSummary: Sendable, Equatable, Codable {
    /// The rollout's number within its app (1, 2, ...).
    public var rollout: Int
    /// The app.
    public var app: String
    /// The release that was stable when it began.
    public var from: String
    /// The candidate.
    public var to: String
    /// The strategy's name.
    public var strategy: String
    /// `pending` (waiting for the rollout it supersedes to end), `running`, `paused`, `rollingBack`, `promoted`,
    /// `rolledBack`, `aborted` or `superseded`.
    public var state: String
    /// The current step, 0-based (equal to `steps` once every step is done).
    public var step: Int
    /// The number of steps.
    public var steps: Int
    /// A short description of the current step.
    public var stepDescription: String
    /// Percent of traffic per version.
    public var weights: [String: Double]
    /// Why the rollout ended or is waiting, when it is.
    public var reason: String?
    /// What the command that returned this summary did, in a sentence.
    public var message: String?
    /// What the candidate is (commit, build, links, author), when its deploy said.
    public var release: ReleaseMetadata?

    /// Creates a summary.
    public init(
        rollout: Int,
        app: String,
        from: String,
        to: String,
        strategy: String,
        state: String,
        step: Int,
        steps: Int,
        stepDescription: String,
        weights: [String: Double],
        reason: String?,
        message: String? = nil
    ) {
        self.rollout = rollout
        self.app = app
        self.from = from
        self.to = to
        self.strategy = strategy
        self.state = state
        self.step = step
        self.steps = steps
        self.stepDescription = stepDescription
        self.weights = weights
        self.reason = reason
        self.message = message
    }

    /// Whether the rollout has ended.
    public var isFinished: Bool { ["promoted", "rolledBack", "aborted", "superseded"].contains(state) }
}

/// What the controller accepts from users, whichever way they reach it (CLI, API, dashboard, the demo).
/// Commands for one app are carried out one at a time, in arrival order.
public protocol RolloutControl: Sendable {
    /// Starts a rollout of `request.version` of `app` with the app's strategy; returns its summary.
    func deploy(app: String, _ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary
    /// Applies a user command to the app's current (or last) rollout; returns the rollout's summary after it.
    func command(app: String, _ command: UserCommand, by user: String) async throws(CommandRefusal) -> RolloutSummary
    /// Replaces every instance of the app's stable release, one at a time, with no downtime.
    func restart(app: String, by user: String) async throws(CommandRefusal) -> RolloutSummary
    /// The app's current rollout, or its last one; nil when it never had one.
    func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary?
}
