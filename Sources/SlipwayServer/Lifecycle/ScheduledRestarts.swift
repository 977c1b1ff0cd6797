import Foundation
import Logging
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// Replaces every instance of the apps with `restart.every`, one at a time with the zero-downtime restart a
/// person starts with `slipway restart`, when ``ScheduledRestart`` says so. The restart is a rollout like any
/// other, recorded with `by: scheduled restart`.
actor ScheduledRestarts {
    private let schedules: [String: ScheduledRestart]
    private let status: @Sendable (String) -> AppStatus?
    private let restart: @Sendable (String, String) async throws(CommandRefusal) -> RolloutSummary
    private let wallClock: @Sendable () -> Date
    private let logger: Logger

    /// The schedules of `apps`; `restart(app, by)` starts a restart.
    init(
        apps: [AppSpec],
        status: @escaping @Sendable (String) -> AppStatus?,
        restart: @escaping @Sendable (String, String) async throws(CommandRefusal) -> RolloutSummary,
        wallClock: @escaping @Sendable () -> Date,
        logger: Logger
    ) {
        var schedules: [String: ScheduledRestart] = [:]
        for app in apps { schedules[app.name] = ScheduledRestart(app.restart) }
        self.schedules = schedules
        self.status = status
        self.restart = restart
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Whether any app has a schedule.
    nonisolated var isEmpty: Bool { schedules.isEmpty }

    /// Decides for every app once, and starts the restarts that are due.
    func tick() async {
        let now = wallClock()
        for (app, schedule) in schedules.sorted(by: { $0.key < $1.key }) {
            guard let current = status(app) else { continue }
            let decision = schedule.decide(
                now: now,
                replacedAt: Self.replacedAt(current),
                rolloutUnderWay: current.rolloutUnderWay,
                healthy: current.fullyHealthy
            )
            guard decision == .restart else { continue }
            do {
                _ = try await restart(app, "scheduled restart (every \(DurationText.format(schedule.every)))")
            } catch {
                logger.warning("the scheduled restart of \(app) did not start: \(error)")
            }
        }
    }

    /// When the app's instances were last all replaced: the end of its last promoted rollout (a deploy or a
    /// restart), else when its oldest instance took its current state.
    static func replacedAt(_ status: AppStatus) -> Date? {
        if let rollout = status.rollout, rollout.outcome == "promoted", let ended = rollout.endedAt { return ended }
        return status.instances.map(\.since).min()
    }

    /// Ticks every `interval` until cancelled.
    func run(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            await tick()
            try? await Task.sleep(for: interval)
        }
    }
}
