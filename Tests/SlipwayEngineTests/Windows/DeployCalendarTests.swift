import Foundation
import SlipwayConfig
import SlipwayEngine
import Testing

@Suite("Deploy calendar")
struct DeployCalendarTests {
    private typealias Support = WindowsTestSupport

    private static let weekendDeny = Support.span(5, "17:00", 1, "09:00")
    private static let officeHours = Support.days(Set(1...5), "09:00", "17:00")

    private static func calendar(
        _ zone: String = "UTC",
        allow: [WeeklyRange] = [],
        deny: [WeeklyRange] = [],
        freezes: [Freeze] = []
    ) -> DeployCalendar {
        DeployCalendar([DeployWindowsSpec(timeZone: zone, allow: allow, deny: deny, freezes: freezes)])
    }

    // MARK: - The example

    @Test func weekendDenyInSeoul() {
        let calendar = Self.calendar("Asia/Seoul", deny: [Self.weekendDeny])
        let monday9 = Support.utc(2026, 11, 23, 0)
        #expect(monday9 == Support.local("Asia/Seoul", 2026, 11, 23, 9))

        let friday1659 = Support.local("Asia/Seoul", 2026, 11, 20, 16, 59)
        #expect(
            calendar.check(at: friday1659) == DeployWindowCheck(allowed: true, reasons: [], nextAllowed: friday1659)
        )

        let friday17 = Support.local("Asia/Seoul", 2026, 11, 20, 17)
        #expect(
            calendar.check(at: friday17)
                == DeployWindowCheck(
                    allowed: false,
                    reasons: ["inside deny Fri 17:00 – Mon 09:00 (Asia/Seoul)"],
                    nextAllowed: monday9
                )
        )
        #expect(calendar.check(at: Support.local("Asia/Seoul", 2026, 11, 22, 12)).nextAllowed == monday9)
        #expect(!calendar.check(at: Support.local("Asia/Seoul", 2026, 11, 22, 12)).allowed)
        #expect(!calendar.check(at: Support.local("Asia/Seoul", 2026, 11, 23, 8, 59, 59)).allowed)
        #expect(calendar.check(at: monday9).allowed)
        #expect(calendar.check(at: monday9).nextAllowed == monday9)
        #expect(calendar.format(monday9) == "Mon 2026-11-23 09:00 KST (UTC+09:00)")
    }

    @Test func theSameInstantInThreeZones() {
        let seoul = Self.calendar("Asia/Seoul", deny: [Self.weekendDeny])
        let utc = Self.calendar(deny: [Self.weekendDeny])
        let losAngeles = Self.calendar("America/Los_Angeles", deny: [Self.weekendDeny])

        // Fri 20:00 UTC: Sat 05:00 in Seoul, Fri 12:00 in Los Angeles.
        let fridayEvening = Support.utc(2026, 11, 20, 20)
        #expect(!seoul.check(at: fridayEvening).allowed)
        #expect(!utc.check(at: fridayEvening).allowed)
        #expect(losAngeles.check(at: fridayEvening).allowed)

        // Mon 01:00 UTC: Mon 10:00 in Seoul, Sun 17:00 in Los Angeles.
        let mondayNight = Support.utc(2026, 11, 23, 1)
        #expect(seoul.check(at: mondayNight).allowed)
        #expect(!utc.check(at: mondayNight).allowed)
        #expect(!losAngeles.check(at: mondayNight).allowed)

        // Each waits for its own Monday 09:00.
        let saturday = Support.utc(2026, 11, 21, 12)
        #expect(seoul.check(at: saturday).nextAllowed == Support.utc(2026, 11, 23, 0))
        #expect(utc.check(at: saturday).nextAllowed == Support.utc(2026, 11, 23, 9))
        #expect(losAngeles.check(at: saturday).nextAllowed == Support.utc(2026, 11, 23, 17))
        #expect(losAngeles.check(at: saturday).reasons == ["inside deny Fri 17:00 – Mon 09:00 (America/Los_Angeles)"])
    }

    // MARK: - Allow

    @Test func officeHoursOnly() {
        let calendar = Self.calendar(allow: [Self.officeHours])
        let saturday = Support.utc(2026, 11, 21, 10)
        #expect(
            calendar.check(at: saturday)
                == DeployWindowCheck(
                    allowed: false,
                    reasons: ["outside allow Mon-Fri 09:00–17:00 (UTC)"],
                    nextAllowed: Support.utc(2026, 11, 23, 9)
                )
        )
        #expect(calendar.check(at: Support.utc(2026, 11, 25, 12)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 11, 25, 9)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 11, 25, 17)).nextAllowed == Support.utc(2026, 11, 26, 9))
        #expect(calendar.check(at: Support.utc(2026, 11, 20, 17)).nextAllowed == Support.utc(2026, 11, 23, 9))
        #expect(calendar.check(at: Support.utc(2026, 11, 25, 8, 59)).nextAllowed == Support.utc(2026, 11, 25, 9))
    }

    @Test func severalAllowRangesAreNamedTogether() {
        let calendar = Self.calendar(allow: [Self.officeHours, Support.days([6], "10:00", "12:00")])
        #expect(calendar.check(at: Support.utc(2026, 11, 21, 11)).allowed)
        #expect(
            calendar.check(at: Support.utc(2026, 11, 21, 12)).reasons == [
                "outside allow Mon-Fri 09:00–17:00 or Sat 10:00–12:00 (UTC)"
            ]
        )
    }

    @Test func overnightAllow() {
        let nightly = Self.calendar(allow: [Support.days(nil, "22:00", "02:00")])
        #expect(nightly.check(at: Support.utc(2026, 11, 24, 23)).allowed)
        #expect(nightly.check(at: Support.utc(2026, 11, 25, 1, 59, 59)).allowed)
        #expect(!nightly.check(at: Support.utc(2026, 11, 25, 2)).allowed)
        #expect(nightly.check(at: Support.utc(2026, 11, 25, 2)).nextAllowed == Support.utc(2026, 11, 25, 22))

        // Friday nights only: the night runs into Saturday.
        let fridayNights = Self.calendar(allow: [Support.days([5], "22:00", "02:00")])
        #expect(fridayNights.check(at: Support.utc(2026, 11, 21, 1)).allowed)
        #expect(!fridayNights.check(at: Support.utc(2026, 11, 21, 23)).allowed)
        #expect(fridayNights.check(at: Support.utc(2026, 11, 21, 23)).nextAllowed == Support.utc(2026, 11, 27, 22))

        // Sunday nights run past the end of the week.
        let sundayNights = Self.calendar(allow: [Support.days([7], "22:00", "02:00")])
        #expect(sundayNights.check(at: Support.utc(2026, 11, 23, 1)).allowed)
        #expect(sundayNights.check(at: Support.utc(2026, 11, 23, 3)).nextAllowed == Support.utc(2026, 11, 29, 22))
    }

    // MARK: - Combinations

    @Test func allowDenyAndFreeze() {
        let calendar = Self.calendar(
            allow: [Self.officeHours],
            deny: [Support.span(3, "12:00", 3, "13:00")],
            freezes: [Support.freeze("2026-11-24 00:00", "2026-11-25 10:30", reason: "db migration")]
        )
        let tuesday = calendar.check(at: Support.utc(2026, 11, 24, 10))
        #expect(tuesday.reasons == ["inside freeze 2026-11-24 00:00 – 2026-11-25 10:30 (UTC): db migration"])
        #expect(tuesday.nextAllowed == Support.utc(2026, 11, 25, 10, 30))

        let tuesdayNight = calendar.check(at: Support.utc(2026, 11, 24, 20))
        #expect(
            tuesdayNight.reasons == [
                "inside freeze 2026-11-24 00:00 – 2026-11-25 10:30 (UTC): db migration",
                "outside allow Mon-Fri 09:00–17:00 (UTC)",
            ]
        )
        #expect(tuesdayNight.nextAllowed == Support.utc(2026, 11, 25, 10, 30))

        let lunch = calendar.check(at: Support.utc(2026, 11, 25, 12, 30))
        #expect(lunch.reasons == ["inside deny Wed 12:00 – Wed 13:00 (UTC)"])
        #expect(lunch.nextAllowed == Support.utc(2026, 11, 25, 13))

        #expect(
            calendar.openings(from: Support.utc(2026, 11, 23, 0), limit: 4, horizon: .seconds(14 * 86_400)) == [
                DeployOpening(start: Support.utc(2026, 11, 23, 9), end: Support.utc(2026, 11, 23, 17)),
                DeployOpening(start: Support.utc(2026, 11, 25, 10, 30), end: Support.utc(2026, 11, 25, 12)),
                DeployOpening(start: Support.utc(2026, 11, 25, 13), end: Support.utc(2026, 11, 25, 17)),
                DeployOpening(start: Support.utc(2026, 11, 26, 9), end: Support.utc(2026, 11, 26, 17)),
            ]
        )
    }

    @Test func anAppAllowAndATopLevelFreeze() {
        let app = DeployWindowsSpec(
            timeZone: "Asia/Seoul",
            allow: [Support.days(Set(1...5), "09:00", "18:00")],
            keyPath: "apps[0].windows"
        )
        let topLevel = DeployWindowsSpec(
            freezes: [Support.freeze("2026-12-24 00:00", "2027-01-04 09:00", reason: "year-end freeze")]
        )
        let calendar = DeployCalendar([app, topLevel])
        #expect(!calendar.isEmpty)
        #expect(calendar.check(at: Support.local("Asia/Seoul", 2026, 12, 23, 17)).allowed)
        // 2026-12-24 09:00 KST is 00:00 UTC, when the freeze starts.
        #expect(!calendar.check(at: Support.local("Asia/Seoul", 2026, 12, 24, 9)).allowed)
        #expect(
            calendar.check(at: Support.local("Asia/Seoul", 2026, 12, 24, 8, 59)).reasons == [
                "outside allow Mon-Fri 09:00–18:00 (Asia/Seoul)"
            ]
        )

        let christmas = calendar.check(at: Support.local("Asia/Seoul", 2026, 12, 25, 10))
        #expect(christmas.reasons == ["inside freeze 2026-12-24 00:00 – 2027-01-04 09:00 (UTC): year-end freeze"])
        // The freeze ends on Monday 2027-01-04 at 09:00 UTC, 18:00 KST, when the app's hours are over.
        #expect(christmas.nextAllowed == Support.local("Asia/Seoul", 2027, 1, 5, 9))

        let saturday = calendar.check(at: Support.local("Asia/Seoul", 2026, 12, 26, 10))
        #expect(
            saturday.reasons == [
                "outside allow Mon-Fri 09:00–18:00 (Asia/Seoul)",
                "inside freeze 2026-12-24 00:00 – 2027-01-04 09:00 (UTC): year-end freeze",
            ]
        )
        #expect(calendar.format(Support.local("Asia/Seoul", 2027, 1, 5, 9)) == "Tue 2027-01-05 09:00 KST (UTC+09:00)")
    }

    @Test func freezeAcrossNewYear() {
        let calendar = Self.calendar(
            "Asia/Seoul",
            freezes: [Support.freeze("2026-12-31 22:00", "2027-01-01 02:00")]
        )
        let midnight = calendar.check(at: Support.local("Asia/Seoul", 2027, 1, 1, 0))
        #expect(midnight.reasons == ["inside freeze 2026-12-31 22:00 – 2027-01-01 02:00 (Asia/Seoul)"])
        #expect(midnight.nextAllowed == Support.utc(2026, 12, 31, 17))
        #expect(calendar.check(at: Support.utc(2026, 12, 31, 12, 59)).allowed)
        #expect(!calendar.check(at: Support.utc(2026, 12, 31, 13)).allowed)
    }

    @Test func nothingAllowedWithinTheHorizon() {
        let calendar = Self.calendar(freezes: [Support.freeze("2026-01-01 00:00", "2028-01-01 00:00")])
        let check = calendar.check(at: Support.utc(2026, 6, 1, 0))
        #expect(!check.allowed)
        #expect(check.nextAllowed == nil)
        #expect(calendar.openings(from: Support.utc(2026, 6, 1, 0), limit: 3, horizon: .seconds(30 * 86_400)) == [])
        let later = calendar.openings(from: Support.utc(2027, 12, 1, 0), limit: 3, horizon: .seconds(60 * 86_400))
        #expect(later == [DeployOpening(start: Support.utc(2028, 1, 1, 0), end: nil)])
    }

    // MARK: - Daylight saving

    @Test func newYorkSpringForward() {
        // 2026-03-08: 02:00 EST (07:00 UTC) becomes 03:00 EDT.
        let calendar = Self.calendar("America/New_York", deny: [Support.days(nil, "01:00", "03:00")])
        let check = calendar.check(at: Support.utc(2026, 3, 8, 6, 30))
        #expect(check.reasons == ["inside deny 01:00–03:00 (America/New_York)"])
        #expect(check.nextAllowed == Support.utc(2026, 3, 8, 7))
        #expect(!calendar.check(at: Support.utc(2026, 3, 8, 6, 59, 59)).allowed)
        #expect(!calendar.check(at: Support.utc(2026, 3, 8, 6)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 3, 8, 5, 59)).allowed)
        // The day before, 03:00 EST is 08:00 UTC; the day after, 03:00 EDT is 07:00 UTC.
        #expect(calendar.check(at: Support.utc(2026, 3, 7, 6, 30)).nextAllowed == Support.utc(2026, 3, 7, 8))
        #expect(calendar.check(at: Support.utc(2026, 3, 9, 5, 30)).nextAllowed == Support.utc(2026, 3, 9, 7))
        #expect(calendar.format(Support.utc(2026, 3, 8, 7)) == "Sun 2026-03-08 03:00 EDT (UTC-04:00)")
        #expect(calendar.format(Support.utc(2026, 3, 8, 6, 59)) == "Sun 2026-03-08 01:59 EST (UTC-05:00)")
    }

    @Test func aSkippedLocalTimeStartsWhenTheGapEnds() {
        // 02:30 does not exist on 2026-03-08: the deny starts at 03:00 EDT (07:00 UTC) and ends at 03:30 EDT.
        let calendar = Self.calendar("America/New_York", deny: [Support.days(nil, "02:30", "03:30")])
        #expect(calendar.check(at: Support.utc(2026, 3, 8, 6, 59)).allowed)
        let check = calendar.check(at: Support.utc(2026, 3, 8, 7))
        #expect(!check.allowed)
        #expect(check.nextAllowed == Support.utc(2026, 3, 8, 7, 30))
        // A deny entirely inside the gap covers nothing that day.
        let inGap = Self.calendar("America/New_York", deny: [Support.days(nil, "02:10", "02:50")])
        #expect(inGap.check(at: Support.utc(2026, 3, 8, 7)).allowed)
        #expect(inGap.check(at: Support.utc(2026, 3, 8, 6, 59)).allowed)
        #expect(!inGap.check(at: Support.utc(2026, 3, 9, 6, 30)).allowed)
    }

    @Test func newYorkFallBack() {
        // 2026-11-01: 02:00 EDT (06:00 UTC) becomes 01:00 EST; 01:00 to 02:00 happens twice.
        let calendar = Self.calendar("America/New_York", deny: [Support.days(nil, "01:00", "03:00")])
        // From the first 01:00 (EDT, 05:00 UTC) to 03:00 EST (08:00 UTC): three hours.
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 4, 59)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 5)).nextAllowed == Support.utc(2026, 11, 1, 8))
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 6, 30)).nextAllowed == Support.utc(2026, 11, 1, 8))
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 8)).allowed)
        #expect(
            calendar.openings(from: Support.utc(2026, 11, 1, 0), limit: 2, horizon: .seconds(2 * 86_400)) == [
                DeployOpening(start: Support.utc(2026, 11, 1, 0), end: Support.utc(2026, 11, 1, 5)),
                DeployOpening(start: Support.utc(2026, 11, 1, 8), end: Support.utc(2026, 11, 2, 6)),
            ]
        )
    }

    @Test func aRepeatedLocalTimeIsItsFirstOccurrence() {
        // 00:30 to 01:30 on 2026-11-01 ends at the first 01:30 (EDT, 05:30 UTC), not the second (06:30 UTC).
        let calendar = Self.calendar("America/New_York", deny: [Support.days(nil, "00:30", "01:30")])
        let check = calendar.check(at: Support.utc(2026, 11, 1, 5, 15))
        #expect(!check.allowed)
        #expect(check.nextAllowed == Support.utc(2026, 11, 1, 5, 30))
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 6)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 11, 1, 6, 30)).allowed)
        // A deny starting at 01:30 starts at the first 01:30 too.
        let late = Self.calendar("America/New_York", deny: [Support.days(nil, "01:30", "04:00")])
        #expect(!late.check(at: Support.utc(2026, 11, 1, 5, 30)).allowed)
        #expect(late.check(at: Support.utc(2026, 11, 1, 5, 29)).nextAllowed == Support.utc(2026, 11, 1, 5, 29))
        #expect(late.check(at: Support.utc(2026, 11, 1, 5, 30)).nextAllowed == Support.utc(2026, 11, 1, 9))
    }

    @Test func berlinSpringForward() {
        // 2026-03-29: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
        let calendar = Self.calendar("Europe/Berlin", deny: [Support.days(nil, "01:00", "03:00")])
        let check = calendar.check(at: Support.utc(2026, 3, 29, 0, 30))
        #expect(check.reasons == ["inside deny 01:00–03:00 (Europe/Berlin)"])
        #expect(check.nextAllowed == Support.utc(2026, 3, 29, 1))
        #expect(calendar.check(at: Support.utc(2026, 3, 29, 1)).allowed)
        #expect(calendar.check(at: Support.utc(2026, 3, 28, 1, 30)).nextAllowed == Support.utc(2026, 3, 28, 2))
        #expect(calendar.check(at: Support.utc(2026, 3, 30, 0, 30)).nextAllowed == Support.utc(2026, 3, 30, 1))
        #expect(calendar.format(Support.utc(2026, 3, 29, 1)) == "Sun 2026-03-29 03:00 CEST (UTC+02:00)")
    }

    // MARK: - Openings

    @Test func openingsAreMergedAndLimited() {
        // Two touching allow ranges and an overlapping third make one opening a day.
        let calendar = Self.calendar(
            allow: [
                Self.officeHours, Support.days(Set(1...5), "17:00", "18:00"), Support.days([1], "08:00", "10:00"),
            ]
        )
        let openings = calendar.openings(
            from: Support.utc(2026, 11, 23, 9, 30),
            limit: 3,
            horizon: .seconds(7 * 86_400)
        )
        #expect(
            openings == [
                DeployOpening(start: Support.utc(2026, 11, 23, 9, 30), end: Support.utc(2026, 11, 23, 18)),
                DeployOpening(start: Support.utc(2026, 11, 24, 9), end: Support.utc(2026, 11, 24, 18)),
                DeployOpening(start: Support.utc(2026, 11, 25, 9), end: Support.utc(2026, 11, 25, 18)),
            ]
        )
        let all = calendar.openings(from: Support.utc(2026, 11, 23, 0), limit: 100, horizon: .seconds(7 * 86_400))
        #expect(all.count == 5)
        #expect(all.first == DeployOpening(start: Support.utc(2026, 11, 23, 8), end: Support.utc(2026, 11, 23, 18)))
        // The horizon ends inside an opening: it has no end.
        let cut = calendar.openings(from: Support.utc(2026, 11, 23, 0), limit: 10, horizon: .seconds(12 * 3600))
        #expect(cut == [DeployOpening(start: Support.utc(2026, 11, 23, 8), end: nil)])
        #expect(calendar.openings(from: Support.utc(2026, 11, 23, 0), limit: 0, horizon: .seconds(86_400)) == [])
    }

    @Test func anEmptyCalendarAlwaysAllows() {
        let instant = Support.utc(2026, 11, 21, 3, 33)
        for calendar in [DeployCalendar([]), DeployCalendar([DeployWindowsSpec(timeZone: "Asia/Seoul")])] {
            #expect(calendar.isEmpty)
            #expect(calendar.check(at: instant) == DeployWindowCheck(allowed: true, reasons: [], nextAllowed: instant))
            #expect(
                calendar.openings(from: instant, limit: 5, horizon: .seconds(86_400)) == [
                    DeployOpening(start: instant, end: nil)
                ]
            )
        }
        #expect(DeployCalendar([]).format(instant) == "Sat 2026-11-21 03:33 UTC")
        #expect(
            DeployCalendar([DeployWindowsSpec(timeZone: "Asia/Seoul")]).format(instant)
                == "Sat 2026-11-21 12:33 KST (UTC+09:00)"
        )
    }

    @Test func formatWithoutALetteredAbbreviation() {
        let dubai = DeployCalendar([DeployWindowsSpec(timeZone: "Asia/Dubai")])
        #expect(dubai.format(Support.utc(2026, 11, 21, 3, 33)) == "Sat 2026-11-21 07:33 UTC+04:00")
        let kathmandu = DeployCalendar([DeployWindowsSpec(timeZone: "Asia/Kathmandu")])
        #expect(kathmandu.format(Support.utc(2026, 11, 21, 0)) == "Sat 2026-11-21 05:45 UTC+05:45")
        let losAngeles = DeployCalendar([DeployWindowsSpec(timeZone: "America/Los_Angeles")])
        #expect(losAngeles.format(Support.utc(2026, 1, 1, 7, 59)) == "Wed 2025-12-31 23:59 PST (UTC-08:00)")
    }
}
