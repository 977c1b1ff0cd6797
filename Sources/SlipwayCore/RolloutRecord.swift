import Foundation

/// One rollout of an app as the event log tells it: who started it, when and why, where it stands, and how it ended.
///
/// This is the only fold of a rollout from the log. The status view, `slipway history`, the API, the release paths
/// across environments and a restarting controller's recovery all read it.
public struct RolloutRecord: Sendable, Equatable, Codable {
    /// Its number within the app.
    public var number: Int
    /// `deploy`, `restart` or `rollback`.
    public var purpose: String
    /// The release that was stable, and the candidate (in an A/B/n test, the variant chosen once a person chose).
    public var from: String
    public var to: String
    /// An A/B/n test's other variants than the candidate (C, D, …, or once a person chose, those not chosen); nil for
    /// any other rollout.
    public var variants: [String]?
    /// The environment overrides of each of those variants, by version (kept out of the API, like `toEnv`).
    public var variantEnv: [String: [String: String]] = [:]
    /// The variant a person chose to keep in an A/B/n test (its version); nil before, and for any other rollout.
    public var chosenVariant: String?
    /// The environment overrides of the two releases (kept out of the API: they may carry configuration).
    public var fromEnv: [String: String] = [:]
    public var toEnv: [String: String] = [:]
    /// The strategy (or `rolling restart`, `rollback`).
    public var strategy: String
    /// Who started it, and why.
    public var by: String
    public var reason: String?
    /// What the candidate is (commit, build, links, author), when the deploy said.
    public var release: ReleaseMetadata?
    public var startedAt: Date
    /// `running`, `paused`, `rollingBack`, or how it ended (`promoted`, `rolledBack`, `aborted`, `superseded`).
    public var state: String
    /// The step in progress (0-based), of `steps`, and what it does.
    public var step: Int
    public var steps: Int
    public var stepDescription: String
    /// Whether a user paused it (and has not resumed it).
    public var pausedByUser: Bool
    /// The hosts that cannot be reached and hold it, in the order they were lost; nil when none does.
    public var heldBy: [String]?
    /// Set once it began going back: the outcome it will end with.
    public var rollbackOutcome: String?
    /// The last decision, with its reason (a rollback's cause, an analysis verdict, a hook's result).
    public var lastDecision: String?
    /// How it ended (`promoted`, `rolledBack`, `aborted`, `superseded`); nil while it runs.
    public var outcome: String?
    public var endedAt: Date?
    /// Why it went back, when it did.
    public var endReason: String?
    /// The A/B experiment's latest recorded report (an `abTest` rollout's): recorded when a verdict or the split
    /// check changes and when the experiment concludes; nil before either.
    public var experiment: JSONValue?
    /// The A/B experiment's latest checkpoint, for a restarting controller (kept out of the API: it is the
    /// experiment's raw counts, which its report already shows).
    public var experimentCheckpoint: JSONValue?

    private enum CodingKeys: String, CodingKey {
        case number, purpose, from, to, variants, chosenVariant, strategy, release, by, reason, startedAt, state, step,
            steps,
            stepDescription
        case pausedByUser, rollbackOutcome, lastDecision, outcome, endedAt, endReason, experiment
    }

    /// Creates a record of a rollout that has just started.
    public init(
        number: Int,
        purpose: String = "deploy",
        from: String,
        to: String,
        strategy: String,
        by: String,
        reason: String?,
        startedAt: Date,
        steps: Int = 0,
        outcome: String? = nil,
        endedAt: Date? = nil,
        endReason: String? = nil
    ) {
        self.number = number
        self.purpose = purpose
        self.from = from
        self.to = to
        self.strategy = strategy
        self.by = by
        self.reason = reason
        self.startedAt = startedAt
        self.state = outcome ?? "running"
        self.step = 0
        self.steps = steps
        self.stepDescription = ""
        self.pausedByUser = false
        self.outcome = outcome
        self.endedAt = endedAt
        self.endReason = endReason
    }

    /// The record a `rolloutStarted` event opens; nil for any other event, or one without its facts.
    public init?(started recorded: RecordedEvent) {
        let fields = recorded.fields
        guard recorded.kind == .rolloutStarted, let number = fields["rollout"]?.intValue else { return nil }
        var steps = 0
        if case .array(let plan)? = fields["plan"] { steps = plan.count }
        self.init(
            number: number,
            purpose: fields["purpose"]?.stringValue ?? "deploy",
            from: fields["from"]?.stringValue ?? "?",
            to: fields["to"]?.stringValue ?? "?",
            strategy: fields["strategy"]?.stringValue ?? "?",
            by: fields["by"]?.stringValue ?? "",
            reason: fields["reason"]?.stringValue,
            startedAt: recorded.time,
            steps: steps
        )
        release = ReleaseMetadata(json: fields["release"])
        fromEnv = Self.environment(fields["fromEnv"])
        toEnv = Self.environment(fields["env"])
        if case .array(let others)? = fields["variants"] {
            variants = others.compactMap(\.stringValue)
        }
        if case .object(let envs)? = fields["variantEnv"] {
            variantEnv = envs.mapValues { Self.environment($0) }
        }
    }

    /// Whether it has ended.
    public var isFinished: Bool { outcome != nil }

    /// Applies one of the rollout's own events (those whose `rollout` field is its number); others change nothing.
    public mutating func apply(_ recorded: RecordedEvent) {
        let fields = recorded.fields
        guard fields["rollout"]?.intValue == number else { return }
        switch recorded.kind {
        case .rolloutStepStarted:
            step = fields["step"]?.intValue ?? step
            if let count = fields["steps"]?.intValue { steps = count }
            stepDescription = fields["description"]?.stringValue ?? ""
        case .rolloutPaused:
            pausedByUser = true
            if rollbackOutcome == nil { state = "paused" }
        case .rolloutResumed:
            pausedByUser = false
            if state == "paused", heldBy?.isEmpty ?? true { state = "running" }
        case .rolloutHeld:
            if let host = fields["host"]?.stringValue, !(heldBy ?? []).contains(host) {
                heldBy = (heldBy ?? []) + [host]
            }
            if rollbackOutcome == nil { state = "paused" }
        case .rolloutHoldLifted:
            heldBy = heldBy?.filter { $0 != fields["host"]?.stringValue }
            if heldBy?.isEmpty == true { heldBy = nil }
            if state == "paused", heldBy == nil, !pausedByUser { state = "running" }
        case .rolloutRollingBack:
            state = "rollingBack"
            rollbackOutcome = fields["outcome"]?.stringValue ?? "rolledBack"
            endReason = fields["reason"]?.stringValue
            lastDecision = endReason
        case .analysisJudged:
            if let summary = fields["summary"]?.stringValue {
                lastDecision = "\(fields["verdict"]?.stringValue ?? "?"): \(summary)"
            }
        case .experimentCheckpoint, .experimentUpdated, .experimentConcluded:
            if case .object(var checkpoint)? = fields["checkpoint"] {
                // A periodic checkpoint leaves the history out: the last one recorded still holds.
                if checkpoint["history"] == nil, case .object(let earlier)? = experimentCheckpoint {
                    checkpoint["history"] = earlier["history"]
                }
                experimentCheckpoint = .object(checkpoint)
            }
            guard recorded.kind != .experimentCheckpoint else { break }
            if let report = fields["report"] { experiment = report }
            if let summary = fields["summary"]?.stringValue {
                lastDecision = recorded.kind == .experimentConcluded ? "experiment concluded: \(summary)" : summary
            }
        case .variantChosen:
            guard let version = fields["version"]?.stringValue else { return }
            if case .array(let others)? = fields["others"] { variants = others.compactMap(\.stringValue) }
            // The chosen variant's settings become the candidate's, and the former candidate's join the others.
            let previousEnv = toEnv
            toEnv = variantEnv.removeValue(forKey: version) ?? [:]
            if !previousEnv.isEmpty { variantEnv[to] = previousEnv }
            to = version
            chosenVariant = version
            lastDecision =
                "\(fields["by"]?.stringValue ?? "a user") chose \(fields["variant"]?.stringValue ?? "?") (\(version))"
        case .rolloutPromoted:
            lastDecision = "promoted \(fields["to"]?.stringValue ?? to)"
        case .hookFinished:
            let hook = "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?")"
            lastDecision = "\(hook) \(fields["summary"]?.stringValue ?? fields["result"]?.stringValue ?? "")"
        case .gateWaiting:
            let problem = fields["problem"]?.stringValue ?? "not yet"
            lastDecision = "waiting for gate \(fields["hook"]?.stringValue ?? "?"): \(problem)"
        case .rolloutFinished:
            guard outcome == nil else { return }
            let ended = fields["outcome"]?.stringValue ?? rollbackOutcome ?? "rolledBack"
            outcome = ended
            state = ended
            endedAt = recorded.time
            if let reason = fields["reason"]?.stringValue {
                endReason = reason
                lastDecision = reason
            }
        default:
            return
        }
    }

    /// Every rollout in `events` (one app's, in log order), oldest first.
    public static func fold(_ events: [RecordedEvent]) -> [RolloutRecord] {
        var records: [Int: RolloutRecord] = [:]
        for recorded in events {
            if let started = RolloutRecord(started: recorded) {
                records[started.number] = started
            } else if let number = recorded.fields["rollout"]?.intValue {
                records[number]?.apply(recorded)
            }
        }
        return records.values.sorted { $0.number < $1.number }
    }

    private static func environment(_ value: JSONValue?) -> [String: String] {
        guard case .object(let object)? = value else { return [:] }
        return object.compactMapValues(\.stringValue)
    }
}
