import Foundation
import SlipwayConfig

/// Whether a deploy may start at a moment, and if not, why and when it next may.
public struct DeployWindowCheck: Sendable, Equatable {
    /// Whether a deploy may start at the moment checked.
    public var allowed: Bool
    /// Why not, one reason per rule that refuses the moment, like
    /// `inside deny Fri 17:00 – Mon 09:00 (Asia/Seoul)`,
    /// `inside freeze 2026-12-24 00:00 – 2027-01-04 09:00 (Asia/Seoul): year-end freeze` or
    /// `outside allow Mon-Fri 09:00–17:00 (Asia/Seoul)`; empty when allowed.
    public var reasons: [String]
    /// The earliest allowed moment at or after the moment checked, within `DeployCalendar.horizon`: the moment
    /// itself when allowed, nil when no moment is allowed within the horizon.
    public var nextAllowed: Date?

    /// Creates a verdict.
    public init(allowed: Bool, reasons: [String], nextAllowed: Date?) {
        self.allowed = allowed
        self.reasons = reasons
        self.nextAllowed = nextAllowed
    }
}

/// A stretch of time in which deploys may start.
public struct DeployOpening: Sendable, Equatable {
    /// The first allowed moment.
    public var start: Date
    /// The end, excluded: the first moment refused again; nil when the opening lasts beyond the horizon asked for.
    public var end: Date?

    /// Creates an opening.
    public init(start: Date, end: Date?) {
        self.start = start
        self.end = end
    }
}

/// When deploys may start, under the deploy windows of several levels at once (an app, its environment and the
/// whole file): a moment is allowed only when every level allows it. A level allows a moment when its `allow` is
/// empty or the moment is inside one of its allow spans, and the moment is inside none of its deny spans and none
/// of its freezes.
///
/// Spans and freezes are written on the local clock of their level's time zone and turned into instants with these
/// rules for daylight-saving changes, applied alike to the start (`from`) and the end (`to`) of each:
/// - a local time that does not exist (skipped when clocks go forward, like 02:30 in America/New_York on
///   2026-03-08) is taken as the first instant after the gap, the moment of the change (03:00 EDT);
/// - a local time that exists twice (when clocks go back, like 01:30 in America/New_York on 2026-11-01) is taken
///   as its first occurrence (01:30 EDT).
///
/// So a daily span of local times covers fewer instants on the day clocks go forward and more when they go back;
/// a span entirely inside a gap covers nothing.
///
/// The calendar is pure: time only comes in as parameters. It works on the instants where spans and freezes start
/// and end over the weeks asked about, never minute by minute.
public struct DeployCalendar: Sendable {
    /// How far ahead `check(at:)` looks for the next allowed moment: 400 days.
    public static let horizon: Duration = .seconds(400 * 86_400)

    /// The deploy windows of every level, as given.
    public let specs: [DeployWindowsSpec]
    /// The zone dates are formatted in: that of the first level, UTC when there is none.
    public let timeZone: TimeZone

    private let levels: [Level]
    private let display: ZoneClock
    private let abbreviations: ZoneAbbreviations?

    /// The calendar of `specs`, one per level, in any order; levels without rules are left out. A time zone that
    /// Foundation does not know (the decoder refuses those) is read as UTC.
    public init(_ specs: [DeployWindowsSpec]) {
        self.specs = specs
        levels = specs.filter(\.hasRules).map(Level.init)
        let identifier = specs.first?.timeZone ?? "UTC"
        timeZone = Level.zone(identifier)
        display = ZoneClock(zone: timeZone)
        abbreviations = ZoneAbbreviations(identifier: identifier)
    }

    /// Whether there are no rules at all: every moment is allowed.
    public var isEmpty: Bool {
        levels.isEmpty
    }

    /// Whether a deploy may start at `date`; if not, why, and the next moment it may (see `DeployWindowCheck`).
    public func check(at date: Date) -> DeployWindowCheck {
        let instant = date.timeIntervalSince1970
        let reasons = levels.flatMap { $0.reasons(at: instant) }
        guard !reasons.isEmpty else {
            return DeployWindowCheck(allowed: true, reasons: [], nextAllowed: date)
        }
        // Most refusals end within days: look a week ahead first, then as far as the horizon.
        let nearby = allowed(from: instant, to: instant + 8 * ZoneClock.secondsPerDay).first
        let next = nearby ?? allowed(from: instant, to: instant + Self.seconds(Self.horizon)).first
        return DeployWindowCheck(
            allowed: false,
            reasons: reasons,
            nextAllowed: next.map { Date(timeIntervalSince1970: $0.start) }
        )
    }

    /// The next stretches of time in which deploys may start, from `from` for `horizon`: in order, merged (no two
    /// touch), at most `limit`. The first starts at `from` when `from` is allowed; an opening still open at the end
    /// of the horizon has no end. An empty calendar gives one opening from `from` with no end.
    public func openings(from: Date, limit: Int, horizon: Duration) -> [DeployOpening] {
        let start = from.timeIntervalSince1970
        let end = start + Self.seconds(horizon)
        guard limit > 0, end > start else { return [] }
        guard !isEmpty else { return [DeployOpening(start: from, end: nil)] }
        return allowed(from: start, to: end).prefix(limit).map { interval in
            DeployOpening(
                start: interval.start == start ? from : Date(timeIntervalSince1970: interval.start),
                end: interval.end >= end ? nil : Date(timeIntervalSince1970: interval.end)
            )
        }
    }

    /// `date` on the clock of `timeZone`: `Mon 2026-11-23 09:00 KST (UTC+09:00)`; `Mon 2026-11-23 00:00 UTC`
    /// in UTC; the offset alone (`Mon 2026-11-23 09:00 UTC+04:00`) when the zone has no lettered abbreviation.
    public func format(_ date: Date) -> String {
        let instant = date.timeIntervalSince1970
        let offset = Int(display.offset(at: instant))
        let local = instant + Double(offset)
        let day = ZoneClock.day(ofLocal: local)
        let (year, month, dayOfMonth) = ZoneClock.date(ofDay: day)
        let minute = Int((local - Double(day) * ZoneClock.secondsPerDay) / 60)
        let dateText = LocalDateTime(year: year, month: month, day: dayOfMonth, hour: minute / 60, minute: minute % 60)
        let text = WeekTime.name(ofWeekday: ZoneClock.weekday(ofDay: day)) + " \(dateText)"
        let offsetText = Self.offsetText(offset)
        switch abbreviations?.abbreviation(forOffset: offset) {
        case .some("UTC") where offset == 0:
            return text + " UTC"
        case .some(let abbreviation):
            return text + " \(abbreviation) (\(offsetText))"
        case .none:
            return text + " \(offsetText)"
        }
    }

    /// The allowed intervals between two instants, clipped to them.
    private func allowed(from start: Double, to end: Double) -> [InstantInterval] {
        var result = [InstantInterval(start: start, end: end)]
        for level in levels where !result.isEmpty {
            result = IntervalSet.intersect(result, level.allowed(from: start, to: end))
        }
        return result
    }

    /// `UTC+09:00`, `UTC-04:00`, `UTC+05:45`.
    static func offsetText(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return "UTC" + (seconds < 0 ? "-" : "+") + WeekTime.clockText(minutes)
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// The rules of one level, ready to be turned into instants.
private struct Level: Sendable {
    /// A range of `allow` or `deny`: its spans as local start (minutes after Monday 00:00) and length in minutes.
    struct Range: Sendable {
        var spans: [(start: Int, minutes: Int)]
        var text: String
    }

    /// A freeze as instants.
    struct FreezePeriod: Sendable {
        var interval: InstantInterval
        var text: String
        var reason: String?
    }

    let zoneName: String
    let clock: ZoneClock
    let allow: [Range]
    let deny: [Range]
    let freezes: [FreezePeriod]

    init(_ spec: DeployWindowsSpec) {
        zoneName = spec.timeZone
        clock = ZoneClock(zone: Self.zone(spec.timeZone))
        allow = spec.allow.map(Self.range)
        deny = spec.deny.map(Self.range)
        let clock = clock
        freezes = spec.freezes.map { freeze in
            FreezePeriod(
                interval: InstantInterval(
                    start: clock.instant(local: Self.local(freeze.from)),
                    end: clock.instant(local: Self.local(freeze.to))
                ),
                text: freeze.text,
                reason: freeze.reason
            )
        }
    }

    /// The zone called `identifier`, UTC when Foundation does not know it.
    static func zone(_ identifier: String) -> TimeZone {
        TimeZone(identifier: identifier) ?? .gmt
    }

    /// The naive local seconds of a local date-time.
    static func local(_ time: LocalDateTime) -> Double {
        let day = ZoneClock.day(year: time.year, month: time.month, day: time.day)
        return Double(day) * ZoneClock.secondsPerDay + Double(time.hour * 3600 + time.minute * 60)
    }

    static func range(_ range: WeeklyRange) -> Range {
        Range(spans: range.spans.map { ($0.from.minuteOfWeek, $0.minutes) }, text: range.text)
    }

    /// The reasons this level refuses `instant`; empty when it allows it.
    func reasons(at instant: Double) -> [String] {
        var reasons: [String] = []
        let contains = { (range: Range) in
            occurrences(of: range, from: instant, to: instant).contains { $0.contains(instant) }
        }
        for range in deny where contains(range) {
            reasons.append("inside deny \(range.text) (\(zoneName))")
        }
        for freeze in freezes where freeze.interval.contains(instant) {
            reasons.append("inside freeze \(freeze.text) (\(zoneName))" + (freeze.reason.map { ": \($0)" } ?? ""))
        }
        if !allow.isEmpty && !allow.contains(where: contains) {
            reasons.append("outside allow \(allow.map(\.text).joined(separator: " or ")) (\(zoneName))")
        }
        return reasons
    }

    /// The instants this level allows between `start` and `end`, normalised and clipped to them.
    func allowed(from start: Double, to end: Double) -> [InstantInterval] {
        let window = [InstantInterval(start: start, end: end)]
        var base = window
        if !allow.isEmpty {
            let spans = IntervalSet.union(allow.flatMap { occurrences(of: $0, from: start, to: end) })
            base = IntervalSet.intersect(window, spans)
        }
        let blocked = deny.flatMap { occurrences(of: $0, from: start, to: end) } + freezes.map(\.interval)
        return IntervalSet.subtract(base, IntervalSet.union(blocked))
    }

    /// Every occurrence, as instants, of the spans of `range` that may overlap `start` to `end` (not clipped).
    func occurrences(of range: Range, from start: Double, to end: Double) -> [InstantInterval] {
        // A span starts at most a week before the week of `start`; a week of margin on each side also covers
        // local times shown twice and offsets of the zone.
        let first = ZoneClock.monday(ofWeekContaining: ZoneClock.day(ofLocal: clock.local(start))) - 7
        let last = ZoneClock.monday(ofWeekContaining: ZoneClock.day(ofLocal: clock.local(end))) + 7
        var result: [InstantInterval] = []
        for monday in stride(from: first, through: last, by: 7) {
            let weekStart = Double(monday) * ZoneClock.secondsPerDay
            for span in range.spans {
                let localStart = weekStart + Double(span.start * 60)
                let occurrence = InstantInterval(
                    start: clock.instant(local: localStart),
                    end: clock.instant(local: localStart + Double(span.minutes * 60))
                )
                if occurrence.start < occurrence.end && occurrence.end >= start && occurrence.start <= end {
                    result.append(occurrence)
                }
            }
        }
        return result
    }
}

/// The abbreviations of a zone's current rules (`KST`, `EST`/`EDT`, `CET`/`CEST`), read from the POSIX TZ string
/// at the end of its tzdata file, since Foundation on Linux only gives `GMT+9`.
struct ZoneAbbreviations: Sendable {
    /// Where tzdata is looked for.
    static let directories = ["/usr/share/zoneinfo", "/var/db/timezone/zoneinfo"]

    var standard: (name: String, offset: Int)
    var daylight: (name: String, offset: Int)?

    /// The abbreviations of the zone called `identifier`, nil when its tzdata file cannot be read or names none.
    init?(identifier: String) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+-")
        guard !identifier.isEmpty, identifier.allSatisfy(allowed.contains), !identifier.contains(".."),
            !identifier.hasPrefix("/")
        else { return nil }
        let data = Self.directories.lazy.compactMap { FileManager.default.contents(atPath: $0 + "/" + identifier) }
            .first
        guard let data, data.starts(with: Array("TZif".utf8)), data.last == UInt8(ascii: "\n") else { return nil }
        // The footer is the last line: "\nKST-9\n" or "\nEST5EDT,M3.2.0,M11.1.0\n".
        let body = data.dropLast()
        guard let newline = body.lastIndex(of: UInt8(ascii: "\n")),
            let footer = String(bytes: body[body.index(after: newline)...], encoding: .ascii)
        else { return nil }
        self.init(posixTZ: footer)
    }

    /// The abbreviations of a POSIX TZ string like `EST5EDT,M3.2.0,M11.1.0` or `<+04>-4`.
    init?(posixTZ: String) {
        var rest = Substring(posixTZ)
        guard let standardName = Self.name(&rest), let standardOffset = Self.offset(&rest) else { return nil }
        standard = (standardName, standardOffset)
        if let daylightName = Self.name(&rest) {
            daylight = (daylightName, Self.offset(&rest) ?? standardOffset + 3600)
        }
    }

    /// The lettered abbreviation in use at `offset` seconds from UTC; nil when none is, or it is only a number
    /// like `+04`.
    func abbreviation(forOffset offset: Int) -> String? {
        let name: String?
        if standard.offset == offset {
            name = standard.name
        } else if let daylight, daylight.offset == offset {
            name = daylight.name
        } else {
            name = nil
        }
        return name.flatMap { $0.allSatisfy(\.isLetter) ? $0 : nil }
    }

    /// A zone name: letters, or anything between `<` and `>`.
    private static func name(_ text: inout Substring) -> String? {
        if text.first == "<" {
            guard let close = text.firstIndex(of: ">") else { return nil }
            let name = text[text.index(after: text.startIndex)..<close]
            text = text[text.index(after: close)...]
            return String(name)
        }
        let name = text.prefix(while: \.isLetter)
        guard name.count >= 3 else { return nil }
        text = text.dropFirst(name.count)
        return String(name)
    }

    /// A POSIX offset, `[+-]hh[:mm[:ss]]` west of UTC, as seconds east of UTC.
    private static func offset(_ text: inout Substring) -> Int? {
        var sign = -1
        if let first = text.first, first == "+" || first == "-" {
            sign = first == "-" ? 1 : -1
            text = text.dropFirst()
        }
        let digits = text.prefix { $0.isASCII && ($0.isNumber || $0 == ":") }
        guard !digits.isEmpty else { return nil }
        text = text.dropFirst(digits.count)
        let parts = digits.split(separator: ":").map { Int($0) ?? 0 }
        let seconds = parts.enumerated().reduce(0) { total, part in
            total + part.element * [3600, 60, 1][min(part.offset, 2)]
        }
        return sign * seconds
    }
}
