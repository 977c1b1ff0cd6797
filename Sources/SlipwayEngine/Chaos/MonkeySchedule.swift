import Foundation
import SlipwayConfig

/// A work day's draw of the monkey: whether it kills that day, and when.
public struct MonkeyPlan: Sendable, Equatable, Codable {
    /// The local date of the work day in the schedule's time zone, like `2026-12-07`.
    public var day: String
    /// When the kill is due; nil when the day's draw gave none.
    public var killAt: Date?
    /// The chance of a kill the day had (one in `meanTimeBetweenKillsInWorkDays`).
    public var probability: Double

    /// Creates a plan.
    public init(day: String, killAt: Date?, probability: Double) {
        self.day = day
        self.killAt = killAt
        self.probability = probability
    }
}

/// When an app's monkey may act: the openings of its schedule (work days are the local days that have one;
/// freezes are holidays), one draw per work day, and work days counted between two kills. Pure: time comes in as
/// values.
public struct MonkeySchedule: Sendable {
    /// The monkey.
    public let spec: MonkeySpec
    /// Its schedule as a calendar of openings.
    public let calendar: DeployCalendar
    private let clock: ZoneClock

    /// The schedule of `spec`.
    public init(_ spec: MonkeySpec) {
        self.spec = spec
        self.calendar = DeployCalendar([spec.schedule])
        self.clock = ZoneClock(zone: calendar.timeZone)
    }

    /// The chance of a kill on a work day.
    public var probability: Double { min(1, 1 / spec.meanTimeBetweenKillsInWorkDays) }

    /// The local date of `date` in the schedule's zone, like `2026-12-07`.
    public func day(of date: Date) -> String {
        let (year, month, day) = ZoneClock.date(ofDay: dayNumber(of: date))
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The stretch of the schedule `now` is in; nil when it is outside.
    public func opening(at now: Date) -> DeployOpening? {
        guard calendar.check(at: now).allowed else { return nil }
        return calendar.openings(from: now, limit: 1, horizon: .seconds(86_400)).first
    }

    /// The next moment at or after `now` the monkey may act: `now` inside the schedule, else the next opening's
    /// start (nil when there is none within the calendar's horizon).
    public func nextOpening(after now: Date) -> Date? {
        calendar.check(at: now).nextAllowed
    }

    /// The day's plan, drawn at `now` inside the schedule: a kill when `draw` (0..<1) is below ``probability``, due
    /// at `position` (0..<1) of what is left of the opening `now` is in (of the next 24 hours for an opening without
    /// end). Nil when `now` is outside the schedule.
    public func plan(at now: Date, draw: Double, position: Double) -> MonkeyPlan? {
        guard let opening = opening(at: now) else { return nil }
        let end = opening.end ?? now.addingTimeInterval(86_400)
        let killAt =
            draw < probability
            ? now.addingTimeInterval(max(0, end.timeIntervalSince(now)) * min(max(position, 0), 0.999)) : nil
        return MonkeyPlan(day: day(of: now), killAt: killAt, probability: probability)
    }

    /// Work days after the local day of `earlier` up to and including that of `later`: 0 the same day, 1 the next
    /// work day. Counted over at most 400 days.
    public func workDays(from earlier: Date, to later: Date) -> Int {
        let first = dayNumber(of: earlier)
        let last = min(dayNumber(of: later), first + 400)
        guard last > first else { return 0 }
        return (first + 1...last).filter(isWorkDay).count
    }

    /// Whether local day `day` (days since 1970-01-01) has an opening.
    private func isWorkDay(_ day: Int) -> Bool {
        let start = Date(timeIntervalSince1970: clock.instant(local: Double(day) * ZoneClock.secondsPerDay))
        let end = Date(timeIntervalSince1970: clock.instant(local: Double(day + 1) * ZoneClock.secondsPerDay))
        guard let opening = calendar.openings(from: start, limit: 1, horizon: .seconds(86_400 * 2)).first else {
            return false
        }
        return opening.start < end
    }

    private func dayNumber(of date: Date) -> Int {
        ZoneClock.day(ofLocal: clock.local(date.timeIntervalSince1970))
    }
}

/// What the monkey knows of an app at a moment, for ``MonkeyDecision``.
public struct MonkeyFacts: Sendable, Equatable {
    /// Now.
    public var now: Date
    /// The newest plan recorded.
    public var plan: MonkeyPlan?
    /// The day the monkey last acted on a plan (killed, or skipped with reasons).
    public var actedDay: String?
    /// When it last killed for real (not leashed).
    public var lastKill: Date?
    /// Whether a rollout of the app is under way.
    public var rolloutUnderWay: Bool
    /// Whether every instance the app should have is healthy; false when unknown (the gate fails closed).
    public var healthy: Bool
    /// Whether the app's deploy windows are open now.
    public var deployWindowsOpen: Bool
    /// Whether all chaos is stopped (`slipway chaos stop`).
    public var chaosStopped: Bool

    /// Creates facts.
    public init(
        now: Date,
        plan: MonkeyPlan? = nil,
        actedDay: String? = nil,
        lastKill: Date? = nil,
        rolloutUnderWay: Bool = false,
        healthy: Bool = true,
        deployWindowsOpen: Bool = true,
        chaosStopped: Bool = false
    ) {
        self.now = now
        self.plan = plan
        self.actedDay = actedDay
        self.lastKill = lastKill
        self.rolloutUnderWay = rolloutUnderWay
        self.healthy = healthy
        self.deployWindowsOpen = deployWindowsOpen
        self.chaosStopped = chaosStopped
    }
}

/// What the monkey does next: the one place its policy lives.
public enum MonkeyDecision: Sendable, Equatable {
    /// Nothing now.
    case wait
    /// Record the day's plan (drawn once per work day, kept across restarts by the log).
    case plan(MonkeyPlan)
    /// Kill now (record it first; a leashed monkey records and stops there).
    case kill
    /// The planned kill is due but refused, for these reasons; recorded, and the day is over for the monkey.
    case skip([String])

    /// The decision at `facts.now`; `draw` and `position` (each 0..<1) are used only to plan a new day.
    public static func decide(
        _ schedule: MonkeySchedule,
        _ facts: MonkeyFacts,
        draw: Double,
        position: Double
    ) -> MonkeyDecision {
        guard schedule.spec.enabled, schedule.opening(at: facts.now) != nil else { return .wait }
        let today = schedule.day(of: facts.now)
        guard let plan = facts.plan, plan.day == today else {
            return schedule.plan(at: facts.now, draw: draw, position: position).map(MonkeyDecision.plan) ?? .wait
        }
        guard let due = plan.killAt, facts.now >= due, facts.actedDay != today else { return .wait }
        var reasons: [String] = []
        if facts.chaosStopped { reasons.append("chaos is stopped") }
        if facts.rolloutUnderWay { reasons.append("a rollout is under way") }
        if !facts.healthy { reasons.append("the app is not fully healthy") }
        if !facts.deployWindowsOpen { reasons.append("the app's deploy windows are closed") }
        if let last = facts.lastKill {
            let days = schedule.workDays(from: last, to: facts.now)
            if Double(days) < schedule.spec.minTimeBetweenKillsInWorkDays {
                reasons.append(
                    "the last kill was \(days) work day\(days == 1 ? "" : "s") ago, under the minimum of "
                        + "\(schedule.spec.minTimeBetweenKillsInWorkDays.formatted())"
                )
            }
        }
        return reasons.isEmpty ? .kill : .skip(reasons)
    }
}

extension Double {
    /// `1`, `0.5`: the shortest text that reads back the same.
    fileprivate func formatted() -> String {
        self == rounded() ? String(Int(self)) : String(self)
    }
}
