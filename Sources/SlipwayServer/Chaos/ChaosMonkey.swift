import Foundation
import Logging
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// Runs the chaos monkeys of the apps that opted in: every few seconds each app's facts go to
/// ``MonkeyDecision``, and what it decides is recorded, then done. The day's plan, the day's act and the last kill
/// are folded from the log, so a restarted controller neither draws a day twice nor kills twice.
public actor ChaosMonkey {
    /// An app's monkey as `slipway chaos status` shows it.
    public struct View: Sendable, Equatable, Codable {
        /// The app.
        public var app: String
        /// Whether it may act, and whether its kills are only recorded.
        public var enabled: Bool
        public var leashed: Bool
        /// `kill`, `hang` or `either`.
        public var action: String
        /// One kill per this many work days on average, and no closer than this.
        public var meanTimeBetweenKillsInWorkDays: Double
        public var minTimeBetweenKillsInWorkDays: Double
        /// When it may act, in words.
        public var schedule: String
        /// Today's plan: when the kill is due (nil: none today, or not drawn yet).
        public var plannedKill: Date?
        /// The next moment it may act (the schedule's next opening).
        public var nextPossible: Date?
        /// Its last real kill.
        public var lastKill: Date?
    }

    private struct State {
        var plan: MonkeyPlan?
        var actedDay: String?
        var lastKill: Date?
    }

    private let schedules: [String: MonkeySchedule]
    private let deployCalendars: [String: DeployCalendar]
    private var states: [String: State] = [:]
    private let record: @Sendable (Event) -> RecordedEvent?
    private let status: @Sendable (String) -> AppStatus?
    private let kills: ChaosKills
    private let chaosStopped: @Sendable () async -> Bool
    private let wallClock: @Sendable () -> Date
    private let random: @Sendable () -> Double
    private let logger: Logger

    /// The monkeys of the `apps` that have one, their state folded from `events` (the log's `monkeyPlanned`,
    /// `monkeySkipped` and `chaosKill`).
    public init(
        apps: [AppSpec],
        events: [RecordedEvent],
        record: @escaping @Sendable (Event) -> RecordedEvent?,
        status: @escaping @Sendable (String) -> AppStatus?,
        kills: ChaosKills,
        chaosStopped: @escaping @Sendable () async -> Bool,
        wallClock: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "slipway.chaos")
    ) {
        var schedules: [String: MonkeySchedule] = [:]
        var calendars: [String: DeployCalendar] = [:]
        for app in apps {
            guard let monkey = app.monkey else { continue }
            schedules[app.name] = MonkeySchedule(monkey)
            calendars[app.name] = DeployCalendar(app.windows)
        }
        self.schedules = schedules
        self.deployCalendars = calendars
        self.record = record
        self.status = status
        self.kills = kills
        self.chaosStopped = chaosStopped
        self.wallClock = wallClock
        self.random = random
        self.logger = logger
        for event in events { states[event.app] = Self.fold(states[event.app] ?? State(), event, schedules[event.app]) }
    }

    /// The kinds of events the monkeys' state is folded from.
    public static let kinds: Set<EventKind> = [.monkeyPlanned, .monkeySkipped, .chaosKill]

    private static func fold(_ state: State, _ event: RecordedEvent, _ schedule: MonkeySchedule?) -> State {
        var state = state
        switch event.kind {
        case .monkeyPlanned:
            guard let day = event.fields["day"]?.stringValue else { return state }
            let killAt = event.fields["killAtMs"]?.intValue.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            state.plan = MonkeyPlan(
                day: day,
                killAt: killAt,
                probability: event.fields["probability"]?.numberValue ?? 0
            )
        case .monkeySkipped:
            state.actedDay = event.fields["day"]?.stringValue ?? state.actedDay
        case .chaosKill where event.fields["source"] == "monkey":
            state.actedDay = schedule?.day(of: event.time) ?? state.actedDay
            if event.fields["leashed"] != .bool(true) { state.lastKill = event.time }
        default:
            break
        }
        return state
    }

    /// Decides and acts for every app with a monkey, once.
    public func tick() async {
        let now = wallClock()
        let stopped = await chaosStopped()
        for (app, schedule) in schedules.sorted(by: { $0.key < $1.key }) {
            let state = states[app] ?? State()
            let current = status(app)
            let facts = MonkeyFacts(
                now: now,
                plan: state.plan,
                actedDay: state.actedDay,
                lastKill: state.lastKill,
                rolloutUnderWay: current?.rolloutUnderWay ?? false,
                healthy: current?.fullyHealthy ?? false,
                deployWindowsOpen: deployCalendars[app]?.check(at: now).allowed ?? true,
                chaosStopped: stopped
            )
            let decision = MonkeyDecision.decide(schedule, facts, draw: random(), position: random())
            await act(decision, app: app, schedule: schedule, now: now)
        }
    }

    private func act(_ decision: MonkeyDecision, app: String, schedule: MonkeySchedule, now: Date) async {
        let spec = schedule.spec
        let today = schedule.day(of: now)
        switch decision {
        case .wait:
            return
        case .plan(let plan):
            var fields: [String: JSONValue] = ["day": .string(plan.day), "probability": .double(plan.probability)]
            if let killAt = plan.killAt { fields["killAtMs"] = .int(Int(killAt.timeIntervalSince1970 * 1000)) }
            guard let recorded = record(Event(app: app, kind: .monkeyPlanned, fields: fields)) else { return }
            states[app] = Self.fold(states[app] ?? State(), recorded, schedule)
        case .skip(let reasons):
            let fields: [String: JSONValue] = ["day": .string(today), "reasons": .array(reasons.map(JSONValue.string))]
            guard let recorded = record(Event(app: app, kind: .monkeySkipped, fields: fields)) else { return }
            states[app] = Self.fold(states[app] ?? State(), recorded, schedule)
        case .kill:
            let hang: Bool
            switch spec.action {
            case .kill: hang = false
            case .hang: hang = true
            case .either: hang = random() < 0.5
            }
            let reason =
                "scheduled: one kill per \(spec.meanTimeBetweenKillsInWorkDays) work days on average"
                + (spec.leashed ? " (leashed: recorded only)" : "")
            if spec.leashed {
                let victim = status(app).flatMap { status in
                    status.instances.filter { $0.state == .healthy && $0.version == status.version }.randomElement()
                }
                var fields: [String: JSONValue] = [
                    "action": .string(hang ? "hang" : "kill"), "signal": .string(hang ? "SIGSTOP" : spec.signal),
                    "by": "chaos monkey", "reason": .string(reason), "source": "monkey", "leashed": true,
                ]
                if hang { fields["hangMs"] = .int(Int(spec.hangFor.milliseconds)) }
                if let victim { fields["version"] = .string(victim.version) }
                guard let recorded = record(Event(app: app, kind: .chaosKill, instance: victim?.id, fields: fields))
                else { return }
                states[app] = Self.fold(states[app] ?? State(), recorded, schedule)
                return
            }
            let request = KillRequest(
                instance: nil,
                action: hang ? .hang(spec.hangFor) : .kill(signal: KillRequest.signals[spec.signal] ?? SIGKILL),
                by: "chaos monkey",
                reason: reason,
                source: "monkey"
            )
            do {
                let done = try await kills.kill(app: app, request)
                var state = states[app] ?? State()
                state.actedDay = today
                state.lastKill = done.at
                states[app] = state
            } catch {
                logger.warning("the chaos monkey could not act on \(app): \(error)")
                let fields: [String: JSONValue] = ["day": .string(today), "reasons": .array([.string(error.message)])]
                if let recorded = record(Event(app: app, kind: .monkeySkipped, fields: fields)) {
                    states[app] = Self.fold(states[app] ?? State(), recorded, schedule)
                }
            }
        }
    }

    /// Ticks every `interval` until cancelled.
    public func run(every interval: Duration = .seconds(5)) async {
        while !Task.isCancelled {
            await tick()
            try? await Task.sleep(for: interval)
        }
    }

    /// Every app's monkey now.
    public func views() -> [View] {
        let now = wallClock()
        return schedules.sorted(by: { $0.key < $1.key }).map { app, schedule in
            let spec = schedule.spec
            let state = states[app] ?? State()
            let today = schedule.day(of: now)
            let planned = state.plan.flatMap { $0.day == today && state.actedDay != today ? $0.killAt : nil }
            return View(
                app: app,
                enabled: spec.enabled,
                leashed: spec.leashed,
                action: spec.action.rawValue,
                meanTimeBetweenKillsInWorkDays: spec.meanTimeBetweenKillsInWorkDays,
                minTimeBetweenKillsInWorkDays: spec.minTimeBetweenKillsInWorkDays,
                schedule: Self.describe(spec.schedule),
                plannedKill: planned,
                nextPossible: spec.enabled ? schedule.nextOpening(after: now) : nil,
                lastKill: state.lastKill
            )
        }
    }

    private static func describe(_ schedule: DeployWindowsSpec) -> String {
        var parts = schedule.allow.map(\.text)
        if !schedule.deny.isEmpty { parts.append("not " + schedule.deny.map(\.text).joined(separator: ", ")) }
        if !schedule.freezes.isEmpty { parts.append("except " + schedule.freezes.map(\.text).joined(separator: ", ")) }
        return parts.joined(separator: "; ") + " (\(schedule.timeZone))"
    }
}
