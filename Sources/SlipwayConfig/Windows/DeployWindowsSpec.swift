/// When deploys may start (key `windows`, written per app, per environment and at the top level of the file).
///
/// A moment is allowed when it is inside one of the `allow` ranges (or `allow` is empty), inside none of the `deny`
/// ranges and inside none of the `freezes`. Every range and freeze is read in `timeZone`.
public struct DeployWindowsSpec: Sendable, Equatable {
    /// The IANA identifier of the time zone the ranges and freezes are written in, like `Asia/Seoul`.
    /// Key `timeZone`; default `UTC`.
    public var timeZone: String
    /// Deploys start only inside one of these ranges; empty (the default) for any time. Key `allow`.
    public var allow: [WeeklyRange]
    /// Deploys never start inside these ranges. Key `deny`; default none.
    public var deny: [WeeklyRange]
    /// Dated periods without deploys. Key `freezes`; default none.
    public var freezes: [Freeze]
    /// Where the section was written, like `apps[0].windows` or `environments.prod.windows`, for messages.
    public var keyPath: String

    /// Creates deploy windows; the defaults are those of an absent or empty section (deploys at any time).
    public init(
        timeZone: String = "UTC",
        allow: [WeeklyRange] = [],
        deny: [WeeklyRange] = [],
        freezes: [Freeze] = [],
        keyPath: String = "windows"
    ) {
        self.timeZone = timeZone
        self.allow = allow
        self.deny = deny
        self.freezes = freezes
        self.keyPath = keyPath
    }

    /// Whether the section restricts deploys at all: false when it has no ranges and no freezes.
    public var hasRules: Bool {
        !allow.isEmpty || !deny.isEmpty || !freezes.isEmpty
    }
}

/// A moment of the week on the local clock: a weekday and a minute of that day.
public struct WeekTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Minutes in a day.
    public static let minutesPerDay = 1440
    /// Minutes in a week.
    public static let minutesPerWeek = 10_080
    /// The short weekday names, Monday first: `Mon` … `Sun`.
    public static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    /// The full weekday names, Monday first: `Monday` … `Sunday`.
    public static let fullWeekdayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// The day of the week, 1 (Monday) to 7 (Sunday).
    public var weekday: Int
    /// The minute of the day, 0 to 1439.
    public var minute: Int

    /// A moment of the week; `weekday` is 1 (Monday) to 7 (Sunday), `minute` 0 to 1439.
    public init(weekday: Int, minute: Int) {
        precondition((1...7).contains(weekday), "weekday \(weekday) is not 1...7")
        precondition((0..<Self.minutesPerDay).contains(minute), "minute \(minute) is not 0..<1440")
        self.weekday = weekday
        self.minute = minute
    }

    /// A moment of the week given as a weekday, an hour (0...23) and a minute of the hour (0...59).
    public init(weekday: Int, hour: Int, minute: Int = 0) {
        self.init(weekday: weekday, minute: hour * 60 + minute)
    }

    /// The moment at `minuteOfWeek` minutes after Monday 00:00 (taken modulo a week).
    public init(minuteOfWeek: Int) {
        let minutes = ((minuteOfWeek % Self.minutesPerWeek) + Self.minutesPerWeek) % Self.minutesPerWeek
        self.init(weekday: minutes / Self.minutesPerDay + 1, minute: minutes % Self.minutesPerDay)
    }

    /// Minutes since Monday 00:00, 0 to 10079.
    public var minuteOfWeek: Int {
        (weekday - 1) * Self.minutesPerDay + minute
    }

    /// `Fri 17:00`.
    public var description: String {
        Self.name(ofWeekday: weekday) + " " + Self.clockText(minute)
    }

    /// Orders by weekday, then minute: Monday 00:00 first.
    public static func < (lhs: WeekTime, rhs: WeekTime) -> Bool {
        lhs.minuteOfWeek < rhs.minuteOfWeek
    }

    /// The short name of a weekday 1 (Monday) to 7 (Sunday): `Mon` … `Sun`.
    public static func name(ofWeekday weekday: Int) -> String {
        weekdayNames[(weekday - 1) % 7]
    }

    /// The weekday 1 (Monday) to 7 (Sunday) called `name`: a short or full English name, in any case.
    public static func weekday(named name: String) -> Int? {
        let lowered = name.lowercased()
        if let index = weekdayNames.firstIndex(where: { $0.lowercased() == lowered }) {
            return index + 1
        }
        return fullWeekdayNames.firstIndex { $0.lowercased() == lowered }.map { $0 + 1 }
    }

    /// A minute of the day as `HH:MM`; 1440 is written `24:00`.
    public static func clockText(_ minute: Int) -> String {
        let hours = minute / 60
        let minutes = minute % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }
}

/// One weekly recurring span of the local clock, from `from` (included) to `to` (excluded).
///
/// When `to` is not after `from`, the span wraps past the end of the week (`Fri 17:00` to `Mon 09:00`);
/// when they are equal, it lasts the whole week.
public struct WeeklySpan: Sendable, Hashable {
    /// Where the span starts, included.
    public var from: WeekTime
    /// Where the span ends, excluded.
    public var to: WeekTime

    /// A span from `from` to `to`, wrapping past the end of the week when `to` is not after `from`.
    public init(from: WeekTime, to: WeekTime) {
        self.from = from
        self.to = to
    }

    /// How long the span lasts on the local clock, in minutes: 1 to 10080.
    public var minutes: Int {
        let length = (to.minuteOfWeek - from.minuteOfWeek + WeekTime.minutesPerWeek) % WeekTime.minutesPerWeek
        return length == 0 ? WeekTime.minutesPerWeek : length
    }
}

/// A weekly range of `allow` or `deny`, normalised to weekly spans, with its text for messages.
///
/// Two forms are written: days and times (`{days: Mon-Fri, from: "09:00", to: "17:00"}`, one span per day, running
/// past midnight into the next day when `to` is not after `from`), and a weekly span (`{from: Fri 17:00,
/// to: Mon 09:00}`, wrapping the week when `to` is not after `from`).
public struct WeeklyRange: Sendable, Equatable {
    /// The spans the range covers, ordered by start.
    public var spans: [WeeklySpan]
    /// The range as written, in canonical form: `Mon-Fri 09:00–17:00`, `22:00–02:00` (every day) or
    /// `Fri 17:00 – Mon 09:00`.
    public var text: String

    /// A range of the given spans described by `text`.
    public init(spans: [WeeklySpan], text: String) {
        self.spans = spans
        self.text = text
    }

    /// The days-and-times form: on each of `days` (1 = Monday … 7 = Sunday; nil for every day, written without
    /// days), from minute `from` (0...1439) of the day to minute `to` (0...1440), running into the next day when
    /// `to` is not after `from`; `from` equal to `to` is a whole day.
    public init(days: Set<Int>?, from: Int, to: Int) {
        precondition((0..<WeekTime.minutesPerDay).contains(from), "from \(from) is not 0..<1440")
        precondition((0...WeekTime.minutesPerDay).contains(to), "to \(to) is not 0...1440")
        var length = (to - from + WeekTime.minutesPerDay) % WeekTime.minutesPerDay
        if length == 0 {
            length = WeekTime.minutesPerDay
        }
        let weekdays = (days ?? Set(1...7)).sorted()
        spans = weekdays.map { weekday in
            let start = WeekTime(weekday: weekday, minute: from)
            return WeeklySpan(from: start, to: WeekTime(minuteOfWeek: start.minuteOfWeek + length))
        }
        let times = WeekTime.clockText(from) + "–" + WeekTime.clockText(to)
        text = days.map { Self.daysText($0) + " " + times } ?? times
    }

    /// The weekly-span form: from `from` to `to`, wrapping the week when `to` is not after `from`.
    public init(from: WeekTime, to: WeekTime) {
        spans = [WeeklySpan(from: from, to: to)]
        text = "\(from) – \(to)"
    }

    /// Days in canonical form: runs of consecutive days (wrapping Sunday to Monday) as ranges, `Mon-Fri`,
    /// `Fri-Mon`, single days by name, joined with `, `: `Mon, Wed-Thu`; all seven days are `Mon-Sun`.
    public static func daysText(_ days: Set<Int>) -> String {
        let valid = days.filter { (1...7).contains($0) }
        if valid.count == 7 {
            return "Mon-Sun"
        }
        // A run starts at a day whose day before (cyclically) is not included.
        let starts = valid.sorted().filter { !valid.contains($0 == 1 ? 7 : $0 - 1) }
        let runs = starts.map { start in
            var end = start
            while valid.contains(end == 7 ? 1 : end + 1) {
                end = end == 7 ? 1 : end + 1
            }
            let first = WeekTime.name(ofWeekday: start)
            return end == start ? first : first + "-" + WeekTime.name(ofWeekday: end)
        }
        return runs.joined(separator: ", ")
    }
}

/// A date and time on the local clock of a time zone, without seconds.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year, like 2026.
    public var year: Int
    /// The month, 1 to 12.
    public var month: Int
    /// The day of the month, 1 to 31.
    public var day: Int
    /// The hour, 0 to 23.
    public var hour: Int
    /// The minute, 0 to 59.
    public var minute: Int

    /// A local date and time; the time defaults to midnight.
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// Whether this is a real date of the Gregorian calendar with a time from 00:00 to 23:59.
    public var isValid: Bool {
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute) else { return false }
        return (1...Self.daysIn(month: month, year: year)).contains(day)
    }

    /// The number of days in `month` of `year` in the Gregorian calendar.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// Chronological order.
    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.year, lhs.month, lhs.day, lhs.hour, lhs.minute) < (rhs.year, rhs.month, rhs.day, rhs.hour, rhs.minute)
    }

    /// `2026-12-24 09:00`.
    public var description: String {
        let paddedYear = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return paddedYear + "-" + Self.twoDigits(month) + "-" + Self.twoDigits(day) + " "
            + WeekTime.clockText(hour * 60 + minute)
    }

    private static func twoDigits(_ value: Int) -> String {
        (value < 10 ? "0" : "") + String(value)
    }
}

/// A dated period without deploys (an entry of `freezes`), in the local time of the section's time zone.
public struct Freeze: Sendable, Equatable {
    /// Where the freeze starts, included. Key `from`.
    public var from: LocalDateTime
    /// Where the freeze ends, excluded; after `from`. Key `to`.
    public var to: LocalDateTime
    /// Why, for messages. Key `reason`; optional.
    public var reason: String?
    /// `2026-12-24 00:00 – 2027-01-04 09:00`.
    public var text: String

    /// A freeze from `from` to `to`, described in `text` by its two ends.
    public init(from: LocalDateTime, to: LocalDateTime, reason: String? = nil) {
        self.from = from
        self.to = to
        self.reason = reason
        self.text = "\(from) – \(to)"
    }
}
