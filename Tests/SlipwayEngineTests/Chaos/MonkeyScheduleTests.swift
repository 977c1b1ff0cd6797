import Foundation
import SlipwayConfig
import Testing

@testable import SlipwayEngine

/// The chaos monkey's policy driven minute by minute across weeks of injected time, without sockets or sleeps.
@Suite(.serialized) struct MonkeyScheduleTests {
    /// Weekdays 09:00–15:00 in Paris, with Wednesday 2026-12-09 a holiday.
    static func spec(mean: Double = 1, min: Double = 1) -> MonkeySpec {
        MonkeySpec(
            meanTimeBetweenKillsInWorkDays: mean,
            minTimeBetweenKillsInWorkDays: min,
            schedule: DeployWindowsSpec(
                timeZone: "Europe/Paris",
                allow: [WeeklyRange(days: Set(1...5), from: 9 * 60, to: 15 * 60)],
                freezes: [
                    Freeze(
                        from: LocalDateTime(year: 2026, month: 12, day: 9),
                        to: LocalDateTime(year: 2026, month: 12, day: 10),
                        reason: "holiday"
                    )
                ]
            )
        )
    }

    /// Monday 2026-12-07 00:00 in Paris (UTC+1).
    static let monday = Date(timeIntervalSince1970: 1_796_598_000)

    /// A seeded generator for the draws.
    struct Draws {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    /// Runs the monkey every five minutes from `start` for `days`, folding its decisions as the executor does;
    /// returns the kills and the skips. `underWay` says when a rollout runs.
    static func simulate(
        _ spec: MonkeySpec,
        from start: Date = monday,
        days: Int = 7,
        seed: UInt64 = 1,
        underWay: (Date) -> Bool = { _ in false }
    ) async -> (kills: [Date], skips: [(Date, [String])], plans: [MonkeyPlan]) {
        let schedule = MonkeySchedule(spec)
        var draws = Draws(state: seed)
        var facts = MonkeyFacts(now: start)
        var kills: [Date] = []
        var skips: [(Date, [String])] = []
        var plans: [MonkeyPlan] = []
        for tick in 0..<(days * 288) {
            // A simulated day at a time: the other tests' tasks get the thread between days.
            if tick % 288 == 0 { await Task.yield() }
            facts.now = start.addingTimeInterval(Double(tick) * 300)
            facts.rolloutUnderWay = underWay(facts.now)
            switch MonkeyDecision.decide(schedule, facts, draw: draws.next(), position: draws.next()) {
            case .wait: break
            case .plan(let plan):
                facts.plan = plan
                plans.append(plan)
            case .kill:
                kills.append(facts.now)
                facts.lastKill = facts.now
                facts.actedDay = schedule.day(of: facts.now)
            case .skip(let reasons):
                skips.append((facts.now, reasons))
                facts.actedDay = schedule.day(of: facts.now)
            }
        }
        return (kills, skips, plans)
    }

    static func local(_ date: Date) -> (weekday: Int, minute: Int, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        let parts = calendar.dateComponents([.weekday, .hour, .minute, .year, .month, .day], from: date)
        let day = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        // Foundation counts Sunday as 1.
        return ((parts.weekday! + 5) % 7 + 1, parts.hour! * 60 + parts.minute!, day)
    }

    @Test func killsOnlyOnWorkDaysInsideTheWindowOncePerDay() async {
        let (kills, skips, plans) = await Self.simulate(Self.spec())
        // Mean 1: every work day draws a kill. Wednesday is a holiday; the weekend has no opening.
        #expect(kills.map { Self.local($0).day } == ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"])
        for kill in kills {
            let local = Self.local(kill)
            #expect((1...5).contains(local.weekday))
            #expect((9 * 60..<15 * 60).contains(local.minute), "killed at minute \(local.minute)")
        }
        #expect(skips.isEmpty)
        #expect(plans.map(\.day) == ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"])
    }

    @Test func respectsTheMinimumTimeBetweenKillsCountedInWorkDays() async {
        let (kills, skips, _) = await Self.simulate(Self.spec(min: 2))
        // Monday; Tuesday is one work day later (refused); Thursday is two (Wednesday is a holiday: still one
        // work day after Tuesday, two after Monday); Friday is one after Thursday.
        #expect(kills.map { Self.local($0).day } == ["2026-12-07", "2026-12-10"])
        #expect(skips.map { Self.local($0.0).day } == ["2026-12-08", "2026-12-11"])
        #expect(skips.first?.1.first?.contains("under the minimum of 2") == true)
    }

    @Test func neverKillsDuringARolloutAndSaysWhy() async {
        let tuesday = Self.monday.addingTimeInterval(86_400)
        let (kills, skips, _) = await Self.simulate(Self.spec()) { date in
            date >= tuesday && date < tuesday.addingTimeInterval(86_400)
        }
        #expect(!kills.map { Self.local($0).day }.contains("2026-12-08"))
        #expect(skips.map { Self.local($0.0).day } == ["2026-12-08"])
        #expect(skips.first?.1 == ["a rollout is under way"])
    }

    @Test func aDisabledMonkeyDoesNothingAndTheGateFailsClosed() async {
        var spec = Self.spec()
        spec.enabled = false
        #expect(await Self.simulate(spec).plans.isEmpty)
        let schedule = MonkeySchedule(Self.spec())
        let due = Self.monday.addingTimeInterval(10 * 3600)
        let plan = MonkeyPlan(day: "2026-12-07", killAt: due, probability: 1)
        let unknown = MonkeyFacts(now: due, plan: plan, healthy: false, deployWindowsOpen: false, chaosStopped: true)
        #expect(
            MonkeyDecision.decide(schedule, unknown, draw: 0, position: 0)
                == .skip(["chaos is stopped", "the app is not fully healthy", "the app's deploy windows are closed"])
        )
    }

    @Test func theMeanSetsTheShareOfWorkDaysWithAKill() async {
        // 8 weeks of 5 work days (Wednesday 2026-12-09 is a holiday: 39 work days), one chance in four each.
        let (kills, _, plans) = await Self.simulate(Self.spec(mean: 4, min: 0), days: 56, seed: 42)
        #expect(plans.count == 39)
        #expect((3...18).contains(kills.count), "\(kills.count) kills in 39 work days at 1 in 4")
        #expect(Set(kills.map { Self.local($0).day }).count == kills.count)
    }

    @Test func aPlanIsDrawnOncePerDayAndKeptAcrossARestart() {
        let schedule = MonkeySchedule(Self.spec(mean: 2))
        let ten = Self.monday.addingTimeInterval(10 * 3600)
        guard case .plan(let plan) = MonkeyDecision.decide(schedule, MonkeyFacts(now: ten), draw: 0.9, position: 0.5)
        else {
            Issue.record("no plan")
            return
        }
        // 0.9 is not below one in two: no kill today, and asking again (a restarted controller with the plan in
        // its log) draws nothing new.
        #expect(plan.killAt == nil && plan.day == "2026-12-07")
        let later = MonkeyFacts(now: ten.addingTimeInterval(3600), plan: plan)
        #expect(MonkeyDecision.decide(schedule, later, draw: 0, position: 0) == .wait)
        // Half of what was left of the window (10:00–15:00): 12:30.
        let drawn = schedule.plan(at: ten, draw: 0.1, position: 0.5)
        #expect(drawn?.killAt == ten.addingTimeInterval(2.5 * 3600))
        #expect(schedule.nextOpening(after: Self.monday) == Self.monday.addingTimeInterval(9 * 3600))
    }
}
