import Foundation
import SlipwayConfig
import SlipwayCore

/// When an app's instances are replaced on purpose (`restart.every`), so that no instance lives long enough to rot:
/// once the stable release's instances are `every` old, inside `restart.window`, with no rollout under way and
/// every instance healthy. Pure: time and the app's state come in as values.
public struct ScheduledRestart: Sendable {
    /// What to do now.
    public enum Decision: Sendable, Equatable {
        /// Not due yet: the instances are younger than `every` until this moment.
        case notDue(until: Date)
        /// Due, and refused for now for these reasons (checked again later).
        case waiting([String])
        /// Replace every instance now, one at a time.
        case restart
    }

    /// How old the instances may get.
    public let every: Duration
    private let window: DeployCalendar?

    /// The schedule of `spec`; nil when it has no `every`.
    public init?(_ spec: RestartSpec) {
        guard let every = spec.every else { return nil }
        self.every = every
        self.window = spec.window.map { DeployCalendar([$0]) }
    }

    /// The decision at `now` for instances last all replaced at `replacedAt` (the end of the last promoted rollout
    /// or restart, else the oldest instance's start).
    public func decide(
        now: Date,
        replacedAt: Date?,
        rolloutUnderWay: Bool,
        healthy: Bool
    ) -> Decision {
        let seconds = every.inSeconds
        if let replacedAt, now < replacedAt.addingTimeInterval(seconds) {
            return .notDue(until: replacedAt.addingTimeInterval(seconds))
        }
        var reasons: [String] = []
        if rolloutUnderWay { reasons.append("a rollout is under way") }
        if !healthy { reasons.append("the app is not fully healthy") }
        if let window, !window.check(at: now).allowed { reasons.append("outside restart.window") }
        return reasons.isEmpty ? .restart : .waiting(reasons)
    }
}
