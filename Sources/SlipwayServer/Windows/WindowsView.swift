import Foundation
import SlipwayConfig
import SlipwayEngine
import SlipwayStore

/// What `GET /api/v1/apps/{app}/windows` answers and `slipway windows APP` prints: whether a deploy is allowed
/// now, the next allowed windows, and the quietest hours of the week by the traffic the proxy recorded.
public struct WindowsView: Sendable, Equatable, Codable {
    /// One allowed window.
    public struct Opening: Sendable, Equatable, Codable {
        /// When it opens (now, when a deploy is allowed now).
        public var start: Date
        /// When it closes; nil when it stays open beyond the two weeks looked at.
        public var end: Date?
        /// `Mon 2026-11-23 09:00 KST (UTC+09:00) – Fri 2026-11-27 17:00 KST (UTC+09:00)`.
        public var text: String
    }

    /// An hour of the week with little traffic, suggested for deploys.
    public struct QuietHourView: Sendable, Equatable, Codable {
        /// `Mon` … `Sun`.
        public var weekday: String
        /// 0…23, in the windows' time zone.
        public var hour: Int
        /// `Tue 03:00–04:00`.
        public var text: String
        /// The mean requests in that hour over the weeks observed.
        public var averageRequests: Double
        /// How many of those hours were observed.
        public var samples: Int
    }

    /// The app.
    public var app: String
    /// The time zone the times are shown in (the first windows' zone; UTC when there are none).
    public var timeZone: String
    /// The rules, as written: `deny Fri 17:00 – Mon 09:00 (Asia/Seoul)` and the like.
    public var rules: [String]
    /// Whether a deploy is allowed now.
    public var allowedNow: Bool
    /// Why not, when it is not.
    public var reasons: [String]
    /// The next time a deploy is allowed (now when it is).
    public var nextAllowed: Date?
    /// The same in the windows' time zone: `Mon 2026-11-23 09:00 KST (UTC+09:00)`.
    public var nextAllowedText: String?
    /// The next allowed windows, at most five, over the next two weeks.
    public var openings: [Opening]
    /// The three quietest allowed hours of the week, from the last four weeks of recorded traffic.
    public var quietHours: [QuietHourView]
    /// How many hours of traffic were recorded in those four weeks.
    public var hoursRecorded: Int

    /// The view of `calendar` at `now`, with `traffic` (hourly counts) for the quiet hours.
    static func make(app: String, calendar: DeployCalendar, traffic: [HourlyRequests], now: Date) -> WindowsView {
        let check = calendar.check(at: now)
        let openings = calendar.openings(from: now, limit: 5, horizon: .seconds(14 * 86_400)).map { opening in
            Opening(
                start: opening.start,
                end: opening.end,
                text: calendar.format(opening.start) + " – " + (opening.end.map(calendar.format) ?? "(open)")
            )
        }
        let quiet = QuietHours.suggest(
            from: traffic.map { HourlyTraffic(hourStart: $0.hour, requests: $0.requests) },
            timeZone: calendar.timeZone,
            calendar: calendar,
            limit: 3
        )
        return WindowsView(
            app: app,
            timeZone: calendar.timeZone.identifier,
            rules: calendar.specs.flatMap(Self.rules),
            allowedNow: check.allowed,
            reasons: check.reasons,
            nextAllowed: check.nextAllowed,
            nextAllowedText: check.nextAllowed.map(calendar.format),
            openings: openings,
            quietHours: quiet.map { hour in
                QuietHourView(
                    weekday: WeekTime.name(ofWeekday: hour.weekday),
                    hour: hour.hour,
                    text: hour.text,
                    averageRequests: hour.averageRequests,
                    samples: hour.samples
                )
            },
            hoursRecorded: traffic.count
        )
    }

    private static func rules(_ spec: DeployWindowsSpec) -> [String] {
        let zone = " (\(spec.timeZone), \(spec.keyPath))"
        return spec.allow.map { "allow \($0.text)" + zone } + spec.deny.map { "deny \($0.text)" + zone }
            + spec.freezes.map { "freeze \($0.text)\($0.reason.map { ": \($0)" } ?? "")" + zone }
    }
}
