import Foundation

/// Wall-clock arithmetic in one time zone without `Calendar`.
///
/// Instants are seconds since 1970-01-01 00:00 UTC. Local times are "naive" seconds: seconds since
/// 1970-01-01 00:00 on the zone's clock, as if the zone were UTC, so local days and weekdays are plain division.
struct ZoneClock: Sendable {
    static let secondsPerDay = 86_400.0
    static let secondsPerWeek = 604_800.0

    let zone: TimeZone

    /// The zone's offset from UTC at `instant`, in seconds.
    func offset(at instant: Double) -> Double {
        Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: instant)))
    }

    /// The local time at `instant`.
    func local(_ instant: Double) -> Double {
        instant + offset(at: instant)
    }

    /// The instant at which the local clock shows `local`.
    ///
    /// A local time that is shown twice (when clocks go back) gives its first occurrence. A local time that is
    /// never shown (skipped when clocks go forward) gives the first instant after the gap, the moment of the change.
    func instant(local: Double) -> Double {
        let offsets = [
            offset(at: local - Self.secondsPerDay), offset(at: local), offset(at: local + Self.secondsPerDay),
        ]
        var first: Double?
        for offset in offsets {
            let candidate = local - offset
            if self.offset(at: candidate) == offset, candidate < first ?? .infinity {
                first = candidate
            }
        }
        if let first {
            return first
        }
        // In a gap: just before it the clock is behind `local`, just after it ahead. Find the change.
        var before = (local - (offsets.max() ?? 0)).rounded(.down)
        var after = (local - (offsets.min() ?? 0)).rounded(.up)
        let offsetAfter = offset(at: after)
        while after - before > 1 {
            let middle = ((before + after) / 2).rounded(.down)
            if offset(at: middle) == offsetAfter {
                after = middle
            } else {
                before = middle
            }
        }
        return after
    }

    /// The local day number (days since 1970-01-01) of a local time.
    static func day(ofLocal local: Double) -> Int {
        Int((local / secondsPerDay).rounded(.down))
    }

    /// The weekday, 1 (Monday) to 7 (Sunday), of a local day number.
    static func weekday(ofDay day: Int) -> Int {
        // 1970-01-01 was a Thursday.
        ((day + 3) % 7 + 7) % 7 + 1
    }

    /// The local day number of the Monday starting the week of `day`.
    static func monday(ofWeekContaining day: Int) -> Int {
        day - (weekday(ofDay: day) - 1)
    }

    /// The day number of a Gregorian date (days since 1970-01-01).
    static func day(year: Int, month: Int, day: Int) -> Int {
        // Howard Hinnant's days_from_civil.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The Gregorian date of a day number (days since 1970-01-01).
    static func date(ofDay day: Int) -> (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let shifted = day + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, dayOfMonth)
    }
}

/// A half-open interval of instants, `start` included, `end` excluded, in seconds since 1970.
struct InstantInterval: Sendable, Equatable {
    var start: Double
    var end: Double

    func contains(_ instant: Double) -> Bool {
        start <= instant && instant < end
    }
}

/// Operations on lists of intervals that are sorted, disjoint and not touching ("normalised").
enum IntervalSet {
    /// The union of any intervals, normalised; empty intervals are dropped, touching ones joined.
    static func union(_ intervals: [InstantInterval]) -> [InstantInterval] {
        var result: [InstantInterval] = []
        for interval in intervals.filter({ $0.end > $0.start }).sorted(by: { $0.start < $1.start }) {
            if let last = result.last, interval.start <= last.end {
                result[result.count - 1].end = max(last.end, interval.end)
            } else {
                result.append(interval)
            }
        }
        return result
    }

    /// The parts of normalised `base` outside normalised `removed`.
    static func subtract(_ base: [InstantInterval], _ removed: [InstantInterval]) -> [InstantInterval] {
        var result: [InstantInterval] = []
        var index = 0
        for interval in base {
            var start = interval.start
            while index < removed.count && removed[index].end <= start {
                index += 1
            }
            var cursor = index
            while cursor < removed.count && removed[cursor].start < interval.end {
                if removed[cursor].start > start {
                    result.append(InstantInterval(start: start, end: removed[cursor].start))
                }
                start = max(start, removed[cursor].end)
                cursor += 1
            }
            if start < interval.end {
                result.append(InstantInterval(start: start, end: interval.end))
            }
        }
        return result
    }

    /// The parts common to normalised `lhs` and `rhs`.
    static func intersect(_ lhs: [InstantInterval], _ rhs: [InstantInterval]) -> [InstantInterval] {
        var result: [InstantInterval] = []
        var left = 0
        var right = 0
        while left < lhs.count && right < rhs.count {
            let start = max(lhs[left].start, rhs[right].start)
            let end = min(lhs[left].end, rhs[right].end)
            if start < end {
                result.append(InstantInterval(start: start, end: end))
            }
            if lhs[left].end < rhs[right].end {
                left += 1
            } else {
                right += 1
            }
        }
        return result
    }
}
