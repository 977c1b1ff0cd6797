import Foundation
import SlipwayCore

/// What an app's event log says about it, for a controller that starts (again): its stable release, its rollouts,
/// and the instances an earlier controller left running.
public struct RecoveredState: Sendable, Equatable {
    /// An instance started and not seen exiting.
    public struct Instance: Sendable, Equatable {
        public var id: InstanceID
        public var pid: Int32
        /// What the platform finds it again by; nil for an instance an older controller started.
        public var reference: String?
        public var host: String
        public var port: Int
        public var version: String
        /// `stable` or `candidate` when a rollout started it.
        public var role: String?
        /// The rollout that started it.
        public var rollout: Int?
    }

    /// The release that ran when the log ends; nil when no rollout ever ended.
    public var stable: Release?
    /// Releases that were stable, oldest first, each once (the latest last).
    public var releases: [Release] = []
    /// Every rollout, by number (the shared fold of the log, ``RolloutRecord``).
    public var rollouts: [Int: RolloutRecord] = [:]
    /// Instances started and not seen exiting, by id.
    public var alive: [InstanceID: Instance] = [:]

    /// Nothing recovered: an app the log has never seen.
    public init() {}

    /// The highest rollout number used.
    public var lastNumber: Int { rollouts.keys.max() ?? 0 }

    /// The rollout that began and did not end, if any.
    public var unfinished: RolloutRecord? {
        rollouts.values.filter { !$0.isFinished }.max { $0.number < $1.number }
    }

    /// The last rollout that ended.
    public var lastFinished: RolloutRecord? {
        rollouts.values.filter(\.isFinished).max { $0.number < $1.number }
    }

    /// Folds an app's events, oldest first.
    public static func fold(_ events: [RecordedEvent]) -> RecoveredState {
        var state = RecoveredState()
        for recorded in events {
            let event = recorded.event
            let fields = event.fields
            switch event.kind {
            case .instanceStarted:
                guard let id = event.instance, let pid = fields["pid"]?.intValue, let port = fields["port"]?.intValue
                else { continue }
                let address = fields["address"]?.stringValue ?? "127.0.0.1:\(port)"
                let host = address.split(separator: ":").dropLast().joined(separator: ":")
                state.alive[id] = Instance(
                    id: id,
                    pid: Int32(truncatingIfNeeded: pid),
                    reference: fields["reference"]?.stringValue,
                    host: host.isEmpty ? "127.0.0.1" : host,
                    port: port,
                    version: fields["version"]?.stringValue ?? "",
                    role: fields["role"]?.stringValue,
                    rollout: fields["rollout"]?.intValue
                )
            case .instanceExited:
                if let id = event.instance { state.alive.removeValue(forKey: id) }
            case .rolloutStarted:
                guard let record = RolloutRecord(started: recorded) else { continue }
                state.rollouts[record.number] = record
                if state.stable == nil { state.remember(record.fromRelease) }
            default:
                guard let number = fields["rollout"]?.intValue else { continue }
                state.rollouts[number]?.apply(recorded)
                if event.kind == .rolloutFinished, let record = state.rollouts[number] {
                    state.remember(record.outcome == "promoted" ? record.toRelease : record.fromRelease)
                }
            }
        }
        return state
    }

    private mutating func remember(_ release: Release) {
        stable = release
        releases.removeAll { $0 == release }
        releases.append(release)
    }
}

extension RolloutRecord {
    /// The release that was stable when it began.
    public var fromRelease: Release { Release(version: from, env: fromEnv) }
    /// The candidate.
    public var toRelease: Release { Release(version: to, env: toEnv) }
    /// One of an A/B/n test's other variants.
    public func variantRelease(_ version: String) -> Release {
        Release(version: version, env: variantEnv[version] ?? [:])
    }
    /// What it is for.
    public var rolloutPurpose: RolloutPlan.Purpose { RolloutPlan.Purpose(rawValue: purpose) ?? .deploy }
    /// How it ended, as the rollout machine names outcomes.
    public var rolloutOutcome: RolloutMachine.Outcome? {
        outcome.map { RolloutMachine.Outcome(rawValue: $0) ?? .rolledBack }
    }
    /// How it is going back, and why, once it began to.
    public var rollingBack: (outcome: RolloutMachine.Outcome, reason: String)? {
        rollbackOutcome.map { (RolloutMachine.Outcome(rawValue: $0) ?? .rolledBack, endReason ?? "") }
    }
}
