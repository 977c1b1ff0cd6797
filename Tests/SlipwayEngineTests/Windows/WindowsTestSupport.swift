import Foundation
import SlipwayConfig

/// Dates and specs for the deploy-window tests, built with Foundation's `Calendar` so that they check the engine
/// independently of its own date arithmetic.
enum WindowsTestSupport {
    /// The instant shown as the given date and time in UTC.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0, _ second: Int = 0) -> Date {
        local("UTC", year, month, day, hour, minute, second)
    }

    /// The instant shown as the given date and time in `zone` (an unambiguous local time).
    static func local(
        _ zone: String,
        _ year: Int,
        _ month: Int,
        _ day: Int,
        _ hour: Int,
        _ minute: Int = 0,
        _ second: Int = 0
    ) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let components = DateComponents(
            year: year,
            month: month,
            day: day,
            hour: hour,
            minute: minute,
            second: second
        )
        return calendar.date(from: components)!
    }

    /// `{days, from, to}` with times as `HH:MM` text.
    static func days(_ days: Set<Int>?, _ from: String, _ to: String) -> WeeklyRange {
        WeeklyRange(days: days, from: minute(from), to: minute(to))
    }

    /// `{from: "<weekday> HH:MM", to: "<weekday> HH:MM"}`.
    static func span(_ fromDay: Int, _ from: String, _ toDay: Int, _ to: String) -> WeeklyRange {
        WeeklyRange(
            from: WeekTime(weekday: fromDay, minute: minute(from)),
            to: WeekTime(weekday: toDay, minute: minute(to))
        )
    }

    /// A freeze between two `YYYY-MM-DD HH:MM` local times.
    static func freeze(_ from: String, _ to: String, reason: String? = nil) -> Freeze {
        Freeze(from: dateTime(from), to: dateTime(to), reason: reason)
    }

    private static func minute(_ text: String) -> Int {
        let parts = text.split(separator: ":").map { Int($0)! }
        return parts[0] * 60 + parts[1]
    }

    private static func dateTime(_ text: String) -> LocalDateTime {
        let parts = text.split(separator: " ")
        let date = parts[0].split(separator: "-").map { Int($0)! }
        let time = minute(String(parts[1]))
        return LocalDateTime(year: date[0], month: date[1], day: date[2], hour: time / 60, minute: time % 60)
    }
}
