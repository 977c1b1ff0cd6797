import Foundation
import SlipwayConfig
import Testing

@testable import SlipwayEngine

/// When `restart.every` replaces an app's instances.
@Suite struct ScheduledRestartTests {
    /// Monday 2026-12-07 00:00 UTC.
    static let monday = Date(timeIntervalSince1970: 1_796_601_600)

    @Test func dueOnceTheInstancesAreOldEnoughAndOnlyWhenNothingElseIsGoingOn() throws {
        let schedule = try #require(ScheduledRestart(RestartSpec(every: .seconds(86_400))))
        let replaced = Self.monday
        let hour = Self.monday.addingTimeInterval(3600)
        #expect(
            schedule.decide(now: hour, replacedAt: replaced, rolloutUnderWay: false, healthy: true)
                == .notDue(until: replaced.addingTimeInterval(86_400))
        )
        let day = Self.monday.addingTimeInterval(86_400)
        #expect(schedule.decide(now: day, replacedAt: replaced, rolloutUnderWay: false, healthy: true) == .restart)
        #expect(
            schedule.decide(now: day, replacedAt: replaced, rolloutUnderWay: true, healthy: false)
                == .waiting(["a rollout is under way", "the app is not fully healthy"])
        )
        // Instances of unknown age are due.
        #expect(schedule.decide(now: hour, replacedAt: nil, rolloutUnderWay: false, healthy: true) == .restart)
        #expect(ScheduledRestart(RestartSpec()) == nil)
    }

    @Test func waitsForItsWindow() throws {
        let window = DeployWindowsSpec(allow: [WeeklyRange(days: Set(1...5), from: 3 * 60, to: 5 * 60)])
        let schedule = try #require(ScheduledRestart(RestartSpec(every: .seconds(3600), window: window)))
        let old = Self.monday.addingTimeInterval(-86_400)
        #expect(
            schedule.decide(
                now: Self.monday.addingTimeInterval(3600),
                replacedAt: old,
                rolloutUnderWay: false,
                healthy: true
            )
                == .waiting(["outside restart.window"])
        )
        #expect(
            schedule.decide(
                now: Self.monday.addingTimeInterval(4 * 3600),
                replacedAt: old,
                rolloutUnderWay: false,
                healthy: true
            )
                == .restart
        )
    }
}
