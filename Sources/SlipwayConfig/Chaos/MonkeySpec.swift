/// The chaos monkey of an app (key `chaos.monkey`, at the top of the file for every app and per app): on work days,
/// inside its schedule, it crashes or freezes one instance now and then, so that a failure nobody planned for is
/// found on a Tuesday morning rather than at night.
///
/// An app is opted in by writing `chaos.monkey` in it (`{}` takes every default); the top-level section gives the
/// defaults, and its `enabled: false` turns the monkey off everywhere.
public struct MonkeySpec: Sendable, Equatable {
    /// What the monkey does to the instance it picks.
    public enum Action: String, Sendable, Equatable, CaseIterable {
        /// Sends `signal` (a crash).
        case kill
        /// Freezes it (`SIGSTOP`) for `hangFor`, then lets it go.
        case hang
        /// Draws kill or hang for each one.
        case either
    }

    /// Whether the monkey may act (key `enabled`, default true). False at the top level wins over every app.
    public var enabled: Bool
    /// Whether kills are only recorded, never carried out (key `leashed`, default false): a dry run.
    public var leashed: Bool
    /// On average, one kill per this many work days (key `meanTimeBetweenKillsInWorkDays`, default 5): each work
    /// day has a kill with a chance of one in this (at most one per day).
    public var meanTimeBetweenKillsInWorkDays: Double
    /// No kill less than this many work days after the last one (key `minTimeBetweenKillsInWorkDays`, default 1:
    /// not twice the same day).
    public var minTimeBetweenKillsInWorkDays: Double
    /// Crash, freeze, or either (key `action`, default `kill`).
    public var action: Action
    /// The signal of a crash (key `signal`, default `SIGKILL`).
    public var signal: String
    /// How long a freeze lasts (key `hangFor`, default 30s, at most 10m).
    public var hangFor: Duration
    /// When it may act, as deploy windows are written (key `schedule`, default Monday to Friday, 09:00–15:00
    /// UTC): work days are the days with an opening; `freezes` are holidays.
    public var schedule: DeployWindowsSpec
    /// Where the app's section was written, for messages.
    public var keyPath: String

    /// The default schedule: weekdays, 09:00 to 15:00, UTC.
    public static let defaultSchedule = DeployWindowsSpec(
        allow: [WeeklyRange(days: Set(1...5), from: 9 * 60, to: 15 * 60)],
        keyPath: "chaos.monkey.schedule"
    )

    /// The signals a crash may send.
    public static let signals = ["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGABRT"]

    /// Creates a spec; the defaults are those of `chaos.monkey: {}`.
    public init(
        enabled: Bool = true,
        leashed: Bool = false,
        meanTimeBetweenKillsInWorkDays: Double = 5,
        minTimeBetweenKillsInWorkDays: Double = 1,
        action: Action = .kill,
        signal: String = "SIGKILL",
        hangFor: Duration = .seconds(30),
        schedule: DeployWindowsSpec = MonkeySpec.defaultSchedule,
        keyPath: String = "chaos.monkey"
    ) {
        self.enabled = enabled
        self.leashed = leashed
        self.meanTimeBetweenKillsInWorkDays = meanTimeBetweenKillsInWorkDays
        self.minTimeBetweenKillsInWorkDays = minTimeBetweenKillsInWorkDays
        self.action = action
        self.signal = signal
        self.hangFor = hangFor
        self.schedule = schedule
        self.keyPath = keyPath
    }
}
