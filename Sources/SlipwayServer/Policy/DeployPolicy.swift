import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// The rules a deploy passes before anything starts: the app's deploy windows, and the environment a version must
/// have been promoted in first. A forced deploy (with a reason) goes ahead against them, and says which it overrode.
/// Rollbacks, aborts and the other commands of a running rollout are never held by them.
struct DeployPolicy: Sendable {
    /// A rule a forced deploy went against: `deployWindow` or `environment`, and what the rule said.
    typealias Override = AppMachine.Override

    let spec: AppSpec
    let calendar: DeployCalendar
    let log: EventLog

    init(spec: AppSpec, log: EventLog) {
        self.spec = spec
        self.calendar = DeployCalendar(spec.windows)
        self.log = log
    }

    /// Checks a deploy of `version` at `now`: the rules it goes against when `force` is set (a reason is required
    /// then), or a refusal: ``CommandRefusal/Code/deployWindow`` outside the windows (with the next allowed time),
    /// ``CommandRefusal/Code/conflict`` for a version the required environment has not promoted.
    func check(version: String, force: Bool, reason: String?, at now: Date) throws(CommandRefusal) -> [Override] {
        if force, (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw CommandRefusal(
                .badRequest,
                "a forced deploy needs a reason (--reason \"…\"): it is recorded and notified"
            )
        }
        var overrides: [Override] = []
        if let refusal = windowRefusal(at: now) {
            guard force else { throw refusal }
            overrides.append(Override(policy: "deployWindow", detail: refusal.message))
        }
        if let refusal = try requirementRefusal(version: version) {
            guard force else { throw refusal }
            overrides.append(Override(policy: "environment", detail: refusal.message))
        }
        return overrides
    }

    /// Why the windows refuse a deploy at `now`, or nil when they allow it.
    func windowRefusal(at now: Date) -> CommandRefusal? {
        guard !calendar.isEmpty else { return nil }
        let check = calendar.check(at: now)
        guard !check.allowed else { return nil }
        var message = "\(spec.name): deploys are not allowed now (\(check.reasons.joined(separator: "; ")))"
        if let next = check.nextAllowed {
            message += "; next allowed \(calendar.format(next))"
        } else {
            message += "; no allowed time within \(Int(DeployCalendar.horizon.components.seconds / 86_400)) days"
        }
        message += "; to deploy anyway: --force --reason \"…\""
        var refusal = CommandRefusal(.deployWindow, message)
        refusal.nextAllowed = check.nextAllowed
        return refusal
    }

    /// Why `version` may not come to this environment yet, or nil when it may.
    func requirementRefusal(version: String) throws(CommandRefusal) -> CommandRefusal? {
        guard let required = spec.requires else { return nil }
        let source = "\(spec.baseName)@\(required)"
        let records: [RolloutRecord]
        do {
            records = RolloutRecord.fold(try log.events(app: source, limit: .max))
        } catch {
            throw CommandRefusal(.conflict, "\(spec.name): the history of \(source) cannot be read: \(error)")
        }
        if records.contains(where: { $0.to == version && $0.outcome == "promoted" }) { return nil }
        var message = "\(spec.name): \(version) has not been promoted in \(required)"
        if let latest = records.last(where: { $0.outcome == "promoted" }) {
            message += " (\(source) last promoted \(latest.to))"
        } else {
            message += " (\(source) has promoted no release yet)"
        }
        message += "; deploy it to \(source) first, or deploy with --force --reason \"…\""
        return CommandRefusal(.conflict, message)
    }
}
