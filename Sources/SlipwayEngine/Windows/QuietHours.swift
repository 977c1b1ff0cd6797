import Foundation
import SlipwayConfig

/// The requests an app served in one hour.
public struct HourlyTraffic: Sendable, Equatable {
    /// The start of the hour.
    public var hourStart: Date
    /// Requests served during the hour.
    public var requests: Int

    /// One hour of traffic.
    public init(hourStart: Date, requests: Int) {
        self.hourStart = hourStart
        self.requests = requests
    }
}

/// An hour of the week with little traffic, suggested for deploys.
public struct QuietHour: Sendable, Equatable {
    /// The local weekday, 1 (Monday) to 7 (Sunday).
    public var weekday: Int
    /// The local hour, 0 to 23.
    public var hour: Int
    /// The mean of the requests of the samples of this hour of the week.
    public var averageRequests: Double
    /// How many hourly samples fell on this hour of the week.
    public var samples: Int
    /// `Tue 03:00–04:00`.
    public var text: String

    /// An hour of the week; `text` is derived from `weekday` and `hour`.
    public init(weekday: Int, hour: Int, averageRequests: Double, samples: Int) {
        self.weekday = weekday
        self.hour = hour
        self.averageRequests = averageRequests
        self.samples = samples
        text =
            WeekTime.name(ofWeekday: weekday) + " " + WeekTime.clockText(hour * 60) + "–"
            + WeekTime.clockText((hour + 1) * 60)
    }
}

/// Suggesting the quietest hours of the week for deploys from past traffic.
public enum QuietHours {
    /// The `limit` hours of the week with the fewest requests on average that the calendar allows.
    ///
    /// Samples are grouped by the local weekday and hour of `hourStart` in `timeZone` (a sample starting at 05:30
    /// local counts for 05:00–06:00), and their requests averaged. An hour of the week is kept only when the calendar
    /// allows the whole of its next occurrence after the traffic: the first local hour with that weekday and hour
    /// starting at or after the end of the latest sample (so, within the week following the data), skipping an
    /// occurrence that daylight saving removes. The result is sorted by average requests, then weekday, then hour.
    /// No traffic, or a `limit` below 1, gives no hours.
    public static func suggest(
        from traffic: [HourlyTraffic],
        timeZone: TimeZone,
        calendar: DeployCalendar,
        limit: Int
    ) -> [QuietHour] {
        guard limit > 0, let latest = traffic.map(\.hourStart).max() else { return [] }
        let clock = ZoneClock(zone: timeZone)
        var totals: [Int: (requests: Int, samples: Int)] = [:]
        for sample in traffic {
            let local = clock.local(sample.hourStart.timeIntervalSince1970)
            let day = ZoneClock.day(ofLocal: local)
            let hour = Int((local - Double(day) * ZoneClock.secondsPerDay) / 3600)
            let key = (ZoneClock.weekday(ofDay: day) - 1) * 24 + hour
            let total = totals[key] ?? (0, 0)
            totals[key] = (total.requests + sample.requests, total.samples + 1)
        }
        let reference = latest.timeIntervalSince1970 + 3600
        let hours = totals.map { key, total in
            QuietHour(
                weekday: key / 24 + 1,
                hour: key % 24,
                averageRequests: Double(total.requests) / Double(total.samples),
                samples: total.samples
            )
        }
        let allowed = hours.filter { hour in
            guard let next = nextOccurrence(of: hour, after: reference, clock: clock) else { return false }
            let openings = calendar.openings(
                from: Date(timeIntervalSince1970: next.start),
                limit: 1,
                horizon: .seconds(next.end - next.start)
            )
            return openings.first == DeployOpening(start: Date(timeIntervalSince1970: next.start), end: nil)
        }
        let sorted = allowed.sorted { lhs, rhs in
            (lhs.averageRequests, lhs.weekday, lhs.hour) < (rhs.averageRequests, rhs.weekday, rhs.hour)
        }
        return Array(sorted.prefix(limit))
    }

    /// The first occurrence, as instants, of the local hour `hour` starting at or after `reference`; nil when
    /// daylight saving removes it for two weeks (never in practice).
    private static func nextOccurrence(
        of hour: QuietHour,
        after reference: Double,
        clock: ZoneClock
    ) -> InstantInterval? {
        let firstDay = ZoneClock.day(ofLocal: clock.local(reference)) - 1
        for day in firstDay..<(firstDay + 16) where ZoneClock.weekday(ofDay: day) == hour.weekday {
            let local = Double(day) * ZoneClock.secondsPerDay + Double(hour.hour * 3600)
            let occurrence = InstantInterval(
                start: clock.instant(local: local),
                end: clock.instant(local: local + 3600)
            )
            if occurrence.start >= reference && occurrence.end > occurrence.start {
                return occurrence
            }
        }
        return nil
    }
}
