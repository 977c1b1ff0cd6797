import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// What an app's event log says about it, for a controller that starts (again): its stable release, its rollouts,
/// and the instances an earlier controller left running.
struct RecoveredState: Sendable, Equatable {
    /// A rollout as `rolloutStarted` recorded it.
    struct Rollout: Sendable, Equatable {
        var number: Int
        var purpose: RolloutPlan.Purpose
        var from: Release
        var to: Release
        var strategy: String
        var by: String
        var reason: String?
        var startedAt: Date
        /// The last step it entered.
        var step = 0
        var pausedByUser = false
        /// Set once it began going back.
        var rollback: (outcome: RolloutMachine.Outcome, reason: String)?
        /// Set once it ended.
        var outcome: RolloutMachine.Outcome?
        var endReason: String?

        static func == (lhs: Rollout, rhs: Rollout) -> Bool {
            lhs.number == rhs.number && lhs.step == rhs.step && lhs.outcome == rhs.outcome
                && lhs.pausedByUser == rhs.pausedByUser && lhs.rollback?.outcome == rhs.rollback?.outcome
                && lhs.from == rhs.from && lhs.to == rhs.to
        }
    }

    /// An instance started and not seen exiting.
    struct Instance: Sendable, Equatable {
        var id: InstanceID
        var pid: Int32
        /// What the platform finds it again by; nil for an instance an older controller started.
        var reference: String?
        var host: String
        var port: Int
        var version: String
        /// `stable` or `candidate` when a rollout started it.
        var role: String?
        var rollout: Int?
    }

    /// The release that ran when the log ends; nil when no rollout ever ended.
    var stable: Release?
    /// Releases that were stable, oldest first, each once (the latest last).
    var releases: [Release] = []
    /// Every rollout, by number.
    var rollouts: [Int: Rollout] = [:]
    /// Instances started and not seen exiting, by id.
    var alive: [InstanceID: Instance] = [:]

    /// The highest rollout number used.
    var lastNumber: Int { rollouts.keys.max() ?? 0 }

    /// The rollout that began and did not end, if any.
    var unfinished: Rollout? {
        rollouts.values.filter { $0.outcome == nil }.max { $0.number < $1.number }
    }

    /// The last rollout that ended.
    var lastFinished: Rollout? {
        rollouts.values.filter { $0.outcome != nil }.max { $0.number < $1.number }
    }

    /// Folds an app's events, oldest first.
    static func fold(_ events: [RecordedEvent]) -> RecoveredState {
        var state = RecoveredState()
        for recorded in events {
            let event = recorded.event
            let fields = event.fields
            let number = fields["rollout"]?.intValue
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
                    rollout: number
                )
            case .instanceExited:
                if let id = event.instance { state.alive.removeValue(forKey: id) }
            case .rolloutStarted:
                guard let number, let from = fields["from"]?.stringValue, let to = fields["to"]?.stringValue else {
                    continue
                }
                state.rollouts[number] = Rollout(
                    number: number,
                    purpose: fields["purpose"]?.stringValue.flatMap(RolloutPlan.Purpose.init(rawValue:)) ?? .deploy,
                    from: Release(version: from, env: environment(fields["fromEnv"])),
                    to: Release(version: to, env: environment(fields["env"])),
                    strategy: fields["strategy"]?.stringValue ?? "",
                    by: fields["by"]?.stringValue ?? "",
                    reason: fields["reason"]?.stringValue,
                    startedAt: recorded.time
                )
                if state.stable == nil { state.remember(Release(version: from, env: environment(fields["fromEnv"]))) }
            case .rolloutStepStarted:
                if let number, let step = fields["step"]?.intValue { state.rollouts[number]?.step = step }
            case .rolloutPaused:
                if let number { state.rollouts[number]?.pausedByUser = true }
            case .rolloutResumed:
                if let number { state.rollouts[number]?.pausedByUser = false }
            case .rolloutRollingBack:
                guard let number else { continue }
                let outcome = fields["outcome"]?.stringValue.flatMap(RolloutMachine.Outcome.init(rawValue:))
                state.rollouts[number]?.rollback = (outcome ?? .rolledBack, fields["reason"]?.stringValue ?? "")
            case .rolloutFinished:
                guard let number, var rollout = state.rollouts[number] else { continue }
                let outcome = fields["outcome"]?.stringValue.flatMap(RolloutMachine.Outcome.init(rawValue:))
                rollout.outcome = outcome ?? .rolledBack
                rollout.endReason = fields["reason"]?.stringValue
                state.rollouts[number] = rollout
                state.remember(rollout.outcome == .promoted ? rollout.to : rollout.from)
            default:
                continue
            }
        }
        return state
    }

    private mutating func remember(_ release: Release) {
        stable = release
        releases.removeAll { $0 == release }
        releases.append(release)
    }

    private static func environment(_ value: JSONValue?) -> [String: String] {
        guard case .object(let object)? = value else { return [:] }
        return object.compactMapValues(\.stringValue)
    }
}
