import Foundation
import SlipwayCore
import Yams

extension KeySchema {
    /// `windows`, of an app, an environment or the whole file.
    static let windows = KeySchema(known: ["timeZone", "allow", "deny", "freezes"])
    /// An entry of `windows.allow` or `windows.deny`.
    static let windowRange = KeySchema(known: ["days", "from", "to"])
    /// An entry of `windows.freezes`.
    static let windowFreeze = KeySchema(known: ["from", "to", "reason"])
}

/// The `windows` section: when deploys may start.
extension ConfigDecoder {
    /// The phrase used for time zones in messages.
    static let timeZoneExpectation = "an IANA time zone like UTC, Europe/Berlin or Asia/Seoul"
    /// The phrase used for a range of `allow` or `deny` in messages.
    static let windowRangeExpectation =
        "a range like {days: Mon-Fri, from: \"09:00\", to: \"17:00\"} or {from: Fri 17:00, to: Mon 09:00}"
    /// The phrase used for `days` in messages.
    static let daysExpectation = "days like Mon, Mon-Fri, Fri-Mon or [Mon, Wed]"
    /// The phrase used for a time of day in messages.
    static let clockTimeExpectation = "a time like 09:00 (HH:MM, 24-hour)"
    /// The phrase used for a weekday and time in messages.
    static let weekTimeExpectation = "a weekday and time like Fri 17:00"
    /// The phrase used for the ends of a freeze in messages.
    static let localDateTimeExpectation = "a date and time like 2026-12-24 09:00, or a date like 2026-12-24"

    /// A `windows` value, like `apps[n].windows`; its key path is that of `entry`. No value gives the defaults
    /// (deploys at any time). Nil when anything in it was reported.
    func deployWindows(_ entry: Entry) -> DeployWindowsSpec? {
        let reported = diagnostics.count
        guard let fields = optionalFields(entry, schema: .windows) else { return nil }
        var spec = DeployWindowsSpec(keyPath: entry.path)
        if let value = fields["timeZone"].flatMap(timeZoneIdentifier) {
            spec.timeZone = value
        }
        if let value = fields["allow"].flatMap({ weeklyRanges($0, allowingEmpty: false) }) {
            spec.allow = value
        }
        if let value = fields["deny"].flatMap({ weeklyRanges($0, allowingEmpty: true) }) {
            spec.deny = value
        }
        if let value = fields["freezes"].flatMap(freezes) {
            spec.freezes = value
        }
        return diagnostics.count == reported ? spec : nil
    }

    /// `timeZone`: an identifier Foundation knows, with a suggestion for a near miss.
    private func timeZoneIdentifier(_ entry: Entry) -> String? {
        guard let text = entry.value.scalarText, !text.isEmpty else {
            reportExpected(Self.timeZoneExpectation, entry)
            return nil
        }
        guard TimeZone(identifier: text) == nil else { return text }
        let candidates = ["UTC"] + TimeZone.knownTimeZoneIdentifiers
        let hint = KeySuggestion.closest(to: text, among: candidates).map { "did you mean `\($0)`?" }
        reportExpected(Self.timeZoneExpectation, entry, hint: hint)
        return nil
    }

    /// `allow` or `deny`: a list of ranges; an empty `allow` would forbid every deploy, so it is refused.
    private func weeklyRanges(_ entry: Entry, allowingEmpty: Bool) -> [WeeklyRange]? {
        let expectation = "a list of ranges like [{days: Mon-Fri, from: \"09:00\", to: \"17:00\"}]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        if elements.isEmpty && !allowingEmpty {
            reportExpected("at least one range", entry, hint: "leave out `\(entry.name)` to allow deploys at any time")
            return nil
        }
        let ranges = elements.enumerated().map { index, element in
            weeklyRange(.element(element, at: KeyPath.element(entry.path, index)))
        }
        let accepted = ranges.compactMap { $0 }
        return accepted.count == ranges.count ? accepted : nil
    }

    /// One range: `{days, from: "HH:MM", to: "HH:MM"}` (days optional), `{days}` alone for whole days, or
    /// `{from: "<Weekday> HH:MM", to: "<Weekday> HH:MM"}`. The form is told by `from` (by `to` when `from` is
    /// missing): a weekly span when it starts with a letter.
    private func weeklyRange(_ entry: Entry) -> WeeklyRange? {
        guard case .mapping = entry.value else {
            reportExpected(Self.windowRangeExpectation, entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .windowRange) else { return nil }
        let daysEntry = fields["days"]
        if let daysEntry, fields["from"] == nil, fields["to"] == nil {
            return weekdays(daysEntry).map { WeeklyRange(days: $0, from: 0, to: WeekTime.minutesPerDay) }
        }
        let fromEntry = require("from", in: fields)
        let toEntry = require("to", in: fields)
        let isWeeklySpan = (fromEntry ?? toEntry)?.value.scalarText?.first?.isLetter ?? false
        if isWeeklySpan {
            if let daysEntry {
                let message =
                    "`days` cannot be combined with weekday times like `Fri 17:00`; "
                    + "write times like \"17:00\" in `from` and `to`, or leave out `days`"
                report(daysEntry.key.location, daysEntry.path, message)
            }
            let from = fromEntry.flatMap { weekTime($0, otherForm: false) }
            let to = toEntry.flatMap { weekTime($0, otherForm: clockMinute(of: $0, allowingEndOfDay: false) != nil) }
            guard daysEntry == nil, let from, let to else { return nil }
            return WeeklyRange(from: from, to: to)
        }
        let days = daysEntry.map(weekdays)
        let from = fromEntry.flatMap { clockTime($0, allowingEndOfDay: false, otherForm: false) }
        let to = toEntry.flatMap { entry in
            clockTime(entry, allowingEndOfDay: true, otherForm: parsedWeekTime(of: entry) != nil)
        }
        guard let from, let to else { return nil }
        switch days {
        case .none:
            return WeeklyRange(days: nil, from: from, to: to)
        case .some(.some(let days)):
            return WeeklyRange(days: days, from: from, to: to)
        case .some(.none):
            return nil
        }
    }

    /// `days`: one day or range of days, or a list of them; returned as weekdays 1 (Monday) to 7 (Sunday).
    private func weekdays(_ entry: Entry) -> Set<Int>? {
        guard case .sequence(let sequence) = entry.value else { return dayGroup(entry) }
        guard !sequence.isEmpty else {
            reportExpected(Self.daysExpectation, entry)
            return nil
        }
        var days: Set<Int> = []
        var valid = true
        for (index, element) in sequence.enumerated() {
            if let group = dayGroup(.element(element, at: KeyPath.element(entry.path, index))) {
                days.formUnion(group)
            } else {
                valid = false
            }
        }
        return valid ? days : nil
    }

    /// `Mon` or `Mon-Fri`; a range wraps past Sunday when its end comes before its start (`Fri-Mon`).
    private func dayGroup(_ entry: Entry) -> Set<Int>? {
        guard let text = entry.value.scalarText else {
            reportExpected(Self.daysExpectation, entry)
            return nil
        }
        let names = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let days = names.map { WeekTime.weekday(named: $0) }
        guard names.count <= 2, let first = days.first ?? nil, let last = days.last ?? nil else {
            let unknown = names.count <= 2 ? names.first { WeekTime.weekday(named: $0) == nil } : nil
            reportExpected(Self.daysExpectation, entry, hint: unknown.flatMap(Self.weekdaySuggestion))
            return nil
        }
        var result: Set<Int> = [first]
        var day = first
        while day != last {
            day = day == 7 ? 1 : day + 1
            result.insert(day)
        }
        return result
    }

    /// `from` or `to` of the days-and-times form, as a minute of the day. `24:00` is accepted for `to` only.
    /// `otherForm` tells that the value is a weekday and time, to say that both ends take the same form.
    private func clockTime(_ entry: Entry, allowingEndOfDay: Bool, otherForm: Bool) -> Int? {
        if let minute = clockMinute(of: entry, allowingEndOfDay: allowingEndOfDay) {
            return minute
        }
        let hint = otherForm ? "write `from` and `to` both as times or both as weekday times" : nil
        reportExpected(Self.clockTimeExpectation, entry, hint: hint)
        return nil
    }

    /// `from` or `to` of the weekly-span form, `<Weekday> HH:MM`.
    /// `otherForm` tells that the value is a time of day, to say that both ends take the same form.
    private func weekTime(_ entry: Entry, otherForm: Bool) -> WeekTime? {
        if let time = parsedWeekTime(of: entry) {
            return time
        }
        var hint = otherForm ? "write `from` and `to` both as times or both as weekday times" : nil
        if let name = entry.value.scalarText?.split(separator: " ").first.map(String.init),
            WeekTime.weekday(named: name) == nil, name.first?.isLetter ?? false
        {
            hint = Self.weekdaySuggestion(for: name)
        }
        reportExpected(Self.weekTimeExpectation, entry, hint: hint)
        return nil
    }

    /// The minute of the day of an `HH:MM` value (the hour may have one digit), nil when it is not one.
    private func clockMinute(of entry: Entry, allowingEndOfDay: Bool) -> Int? {
        entry.value.scalarText.flatMap { Self.clockMinute($0, allowingEndOfDay: allowingEndOfDay) }
    }

    /// The weekday and time of a `<Weekday> HH:MM` value, nil when it is not one.
    private func parsedWeekTime(of entry: Entry) -> WeekTime? {
        guard let text = entry.value.scalarText else { return nil }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let weekday = WeekTime.weekday(named: String(parts[0])),
            let minute = Self.clockMinute(String(parts[1]), allowingEndOfDay: false)
        else { return nil }
        return WeekTime(weekday: weekday, minute: minute)
    }

    /// `freezes`: a list of dated freezes.
    private func freezes(_ entry: Entry) -> [Freeze]? {
        let expectation = "a list of freezes like [{from: 2026-12-24, to: 2027-01-04 09:00, reason: year-end}]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        let freezes = elements.enumerated().map { index, element in
            freeze(.element(element, at: KeyPath.element(entry.path, index)))
        }
        let accepted = freezes.compactMap { $0 }
        return accepted.count == freezes.count ? accepted : nil
    }

    /// One freeze: `{from, to, reason}`, `to` after `from`.
    private func freeze(_ entry: Entry) -> Freeze? {
        guard case .mapping = entry.value else {
            reportExpected("a freeze like {from: 2026-12-24, to: 2027-01-04 09:00, reason: year-end}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .windowFreeze) else { return nil }
        let from = require("from", in: fields).flatMap(localDateTime)
        let toEntry = require("to", in: fields)
        let to = toEntry.flatMap(localDateTime)
        var reader = SectionReader(fields: fields)
        let reason = reader.read("reason", string)
        guard let from, let to, let toEntry, reader.accepted("reason") else { return nil }
        guard to > from else {
            reportExpected("a date and time after `from` (\(from))", toEntry)
            return nil
        }
        return Freeze(from: from, to: to, reason: reason)
    }

    /// `YYYY-MM-DD HH:MM`, or `YYYY-MM-DD` for midnight, a real date of the Gregorian calendar.
    private func localDateTime(_ entry: Entry) -> LocalDateTime? {
        guard let text = entry.value.scalarText, let value = Self.localDateTime(text) else {
            reportExpected(Self.localDateTimeExpectation, entry)
            return nil
        }
        return value
    }

    /// `HH:MM` (or `H:MM`) as a minute of the day; `24:00` only when `allowingEndOfDay`.
    static func clockMinute(_ text: String, allowingEndOfDay: Bool) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), let hour = Int(parts[0]), let minute = Int(parts[1]),
            minute < 60
        else { return nil }
        if hour < 24 {
            return hour * 60 + minute
        }
        return allowingEndOfDay && hour == 24 && minute == 0 ? WeekTime.minutesPerDay : nil
    }

    /// `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`; nil unless it is a real date and time.
    static func localDateTime(_ text: String) -> LocalDateTime? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard (1...2).contains(parts.count) else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, date[0].count == 4, date[1].count == 2, date[2].count == 2,
            date.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), let year = Int(date[0]), let month = Int(date[1]),
            let day = Int(date[2])
        else { return nil }
        var minute = 0
        if parts.count == 2 {
            guard parts[1].count == 5, let value = clockMinute(String(parts[1]), allowingEndOfDay: false) else {
                return nil
            }
            minute = value
        }
        let value = LocalDateTime(year: year, month: month, day: day, hour: minute / 60, minute: minute % 60)
        return value.isValid ? value : nil
    }

    /// "did you mean `Fri`?" for a misspelled weekday name, nil when no name is near.
    static func weekdaySuggestion(for name: String) -> String? {
        let names = WeekTime.weekdayNames + WeekTime.fullWeekdayNames
        let lowered = names.map { $0.lowercased() }
        guard let match = KeySuggestion.closest(to: name.lowercased(), among: lowered),
            let index = lowered.firstIndex(of: match)
        else { return nil }
        return "did you mean `\(names[index])`?"
    }
}
