import Foundation
import SlipwayConfig
import SlipwayEngine
import Testing

@Suite("Quiet hours")
struct QuietHoursTests {
    private typealias Support = WindowsTestSupport

    private static let seoul = TimeZone(identifier: "Asia/Seoul")!

    /// Three weeks of hourly traffic from Monday 2026-11-02 00:00 KST: `requests(weekday, hour)` an hour.
    private static func traffic(_ requests: (Int, Int) -> Int) -> [HourlyTraffic] {
        let start = Support.local("Asia/Seoul", 2026, 11, 2, 0)
        return (0..<(21 * 24)).map { index in
            let weekday = (index / 24) % 7 + 1
            return HourlyTraffic(
                hourStart: start.addingTimeInterval(Double(index) * 3600),
                requests: requests(weekday, index % 24)
            )
        }
    }

    /// Busy in the day, quieter at night, quietest on Tuesdays at 03:00 KST; a little noise by week.
    private static let shopTraffic: [HourlyTraffic] = {
        var samples = traffic { weekday, hour in
            if weekday == 2 && hour == 3 {
                return 5
            }
            return (7...22).contains(hour) ? 1000 + hour : 100 + weekday * 10 + hour
        }
        // Different weeks, different counts: Tuesday 03:00 averages (5 + 5 + 11) / 3 = 7.
        let lastTuesday = 2 * 7 * 24 + 24 + 3
        samples[lastTuesday].requests = 11
        return samples
    }()

    @Test func theQuietestHourInSeoul() {
        let hours = QuietHours.suggest(
            from: Self.shopTraffic,
            timeZone: Self.seoul,
            calendar: DeployCalendar([]),
            limit: 3
        )
        #expect(
            hours == [
                QuietHour(weekday: 2, hour: 3, averageRequests: 7, samples: 3),
                QuietHour(weekday: 1, hour: 0, averageRequests: 110, samples: 3),
                QuietHour(weekday: 1, hour: 1, averageRequests: 111, samples: 3),
            ]
        )
        #expect(hours.first?.text == "Tue 03:00–04:00")
    }

    @Test func hoursAreReadInTheGivenZone() {
        // The same samples read in UTC: 03:00 KST on Tuesday is 18:00 UTC on Monday.
        let hours = QuietHours.suggest(
            from: Self.shopTraffic,
            timeZone: TimeZone(identifier: "UTC")!,
            calendar: DeployCalendar([]),
            limit: 1
        )
        #expect(hours.map(\.text) == ["Mon 18:00–19:00"])
    }

    @Test func deniedHoursAreLeftOut() {
        let calendar = DeployCalendar([
            DeployWindowsSpec(timeZone: "Asia/Seoul", deny: [Support.span(2, "02:00", 2, "04:00")])
        ])
        let hours = QuietHours.suggest(from: Self.shopTraffic, timeZone: Self.seoul, calendar: calendar, limit: 2)
        #expect(hours.map(\.text) == ["Mon 00:00–01:00", "Mon 01:00–02:00"])

        // A quarter of an hour denied is enough to leave the hour out.
        let partly = DeployCalendar([
            DeployWindowsSpec(timeZone: "Asia/Seoul", deny: [Support.span(2, "03:30", 2, "03:45")])
        ])
        let partlyHours = QuietHours.suggest(from: Self.shopTraffic, timeZone: Self.seoul, calendar: partly, limit: 1)
        #expect(partlyHours.map(\.text) == ["Mon 00:00–01:00"])

        // Only office hours allowed: the quietest of those.
        let office = DeployCalendar([
            DeployWindowsSpec(timeZone: "Asia/Seoul", allow: [Support.days(Set(1...5), "09:00", "17:00")])
        ])
        let officeHours = QuietHours.suggest(from: Self.shopTraffic, timeZone: Self.seoul, calendar: office, limit: 2)
        #expect(officeHours.map(\.text) == ["Mon 09:00–10:00", "Tue 09:00–10:00"])
        #expect(officeHours.map(\.averageRequests) == [1009, 1009])
    }

    @Test func aFreezeAfterTheDataLeavesOutTheHoursItCovers() {
        // The latest sample is Sunday 2026-11-22 23:00 KST; the next Tuesday 03:00 is on 2026-11-24.
        let calendar = DeployCalendar([
            DeployWindowsSpec(
                timeZone: "Asia/Seoul",
                freezes: [Support.freeze("2026-11-24 00:00", "2026-11-25 00:00")]
            )
        ])
        let hours = QuietHours.suggest(from: Self.shopTraffic, timeZone: Self.seoul, calendar: calendar, limit: 1)
        #expect(hours.map(\.text) == ["Mon 00:00–01:00"])
    }

    @Test func tiesAreOrderedByWeekdayThenHour() {
        let flat = Self.traffic { _, _ in 42 }
        let hours = QuietHours.suggest(from: flat, timeZone: Self.seoul, calendar: DeployCalendar([]), limit: 30)
        #expect(hours.count == 30)
        #expect(hours.prefix(3).map(\.text) == ["Mon 00:00–01:00", "Mon 01:00–02:00", "Mon 02:00–03:00"])
        #expect(hours[24].text == "Tue 00:00–01:00")
        #expect(hours.allSatisfy { $0.averageRequests == 42 && $0.samples == 3 })
        #expect(hours.last?.text == "Tue 05:00–06:00")
        let all = QuietHours.suggest(from: flat, timeZone: Self.seoul, calendar: DeployCalendar([]), limit: 500)
        #expect(all.count == 168)
        #expect(all.last?.text == "Sun 23:00–24:00")
    }

    @Test func noTrafficNoSuggestions() {
        #expect(QuietHours.suggest(from: [], timeZone: Self.seoul, calendar: DeployCalendar([]), limit: 5) == [])
        #expect(
            QuietHours.suggest(from: Self.shopTraffic, timeZone: Self.seoul, calendar: DeployCalendar([]), limit: 0)
                == []
        )
    }
}
