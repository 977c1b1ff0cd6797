import Testing

@testable import SlipwayConfig

@Suite("The windows section")
struct WindowsConfigTests {
    /// Decodes `yaml`, a mapping with the one key `windows` on line 1, as if it were written at `apps[0].windows`.
    private func decode(_ yaml: String) -> (spec: DeployWindowsSpec?, problems: [String]) {
        guard case .success(let document) = YAMLComposer.compose(yaml), let root = document.root,
            case .mapping(let mapping) = root, let (key, value) = mapping.first
        else {
            Issue.record("not a mapping: \(yaml)")
            return (nil, [])
        }
        let decoder = ConfigDecoder(file: ConfigFixtures.file, baseDirectory: "/srv", document: document)
        let entry = Entry(name: "windows", key: key, value: value, path: "apps[0].windows")
        let spec = decoder.deployWindows(entry)
        return (spec, ConfigErrors(decoder.diagnostics).diagnostics.map(\.description))
    }

    /// The spec of `windows:` followed by `lines`, each indented by two spaces (so the first is on line 2,
    /// its value from column 3 on); records the problems as an issue.
    private func spec(_ lines: String) -> DeployWindowsSpec? {
        let (spec, problems) = decode(Self.yaml(lines))
        #expect(problems == [])
        return spec
    }

    /// The problems of `windows:` followed by `lines`, each indented by two spaces (from line 2 on).
    private func problems(_ lines: String) -> [String] {
        let (spec, problems) = decode(Self.yaml(lines))
        #expect(spec == nil)
        return problems
    }

    private static func yaml(_ lines: String) -> String {
        "windows:\n"
            + lines.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            .joined(separator: "\n")
    }

    private static func time(_ weekday: Int, _ hour: Int, _ minute: Int = 0) -> WeekTime {
        WeekTime(weekday: weekday, hour: hour, minute: minute)
    }

    // MARK: - Forms

    @Test func absentOrEmptyIsEveryTime() throws {
        let empty = try #require(decode("windows:").spec)
        #expect(empty == DeployWindowsSpec(keyPath: "apps[0].windows"))
        #expect(empty.timeZone == "UTC")
        #expect(!empty.hasRules)
        #expect(decode("windows: {}").spec == DeployWindowsSpec(keyPath: "apps[0].windows"))
        #expect(spec("timeZone: Asia/Seoul") == DeployWindowsSpec(timeZone: "Asia/Seoul", keyPath: "apps[0].windows"))
    }

    @Test func theIssueExample() throws {
        let yaml = """
            timeZone: Asia/Seoul
            allow:
              - days: Mon-Fri
                from: "09:00"
                to: "17:00"
            deny:
              - from: Fri 17:00
                to: Mon 09:00
            freezes:
              - from: 2026-12-24 00:00
                to: 2027-01-04 09:00
                reason: year-end freeze
            """
        let windows = try #require(spec(yaml))
        #expect(windows.timeZone == "Asia/Seoul")
        #expect(windows.keyPath == "apps[0].windows")
        #expect(windows.hasRules)
        #expect(windows.allow.count == 1)
        #expect(windows.allow[0].text == "Mon-Fri 09:00–17:00")
        #expect(windows.allow[0].spans == (1...5).map { WeeklySpan(from: Self.time($0, 9), to: Self.time($0, 17)) })
        #expect(
            windows.deny == [
                WeeklyRange(
                    spans: [WeeklySpan(from: Self.time(5, 17), to: Self.time(1, 9))],
                    text: "Fri 17:00 – Mon 09:00"
                )
            ]
        )
        #expect(windows.deny[0].spans[0].minutes == 64 * 60)
        #expect(
            windows.freezes == [
                Freeze(
                    from: LocalDateTime(year: 2026, month: 12, day: 24),
                    to: LocalDateTime(year: 2027, month: 1, day: 4, hour: 9),
                    reason: "year-end freeze"
                )
            ]
        )
        #expect(windows.freezes[0].text == "2026-12-24 00:00 – 2027-01-04 09:00")
    }

    @Test func singleDayWrappingDaysAndLists() throws {
        let yaml = """
            allow:
              - { days: wed, from: "10:00", to: "11:30" }
              - { days: Fri-Mon, from: "06:00", to: "07:00" }
              - { days: [Monday, Wed, sat-sun], from: "12:00", to: "13:00" }
              - { days: " Tue - Thu ", from: "1:05", to: "02:00" }
            """
        let allow = try #require(spec(yaml)).allow
        // Days in canonical form: runs of days, wrapping past Sunday.
        #expect(
            allow.map(\.text) == [
                "Wed 10:00–11:30", "Fri-Mon 06:00–07:00", "Wed, Sat-Mon 12:00–13:00", "Tue-Thu 01:05–02:00",
            ]
        )
        #expect(allow[0].spans == [WeeklySpan(from: Self.time(3, 10), to: Self.time(3, 11, 30))])
        #expect(allow[1].spans.map(\.from.weekday) == [1, 5, 6, 7])
        #expect(allow[2].spans.map(\.from.weekday) == [1, 3, 6, 7])
        #expect(allow[3].spans.map(\.from) == [Self.time(2, 1, 5), Self.time(3, 1, 5), Self.time(4, 1, 5)])
    }

    @Test func overnightTimesRunIntoTheNextDay() throws {
        let yaml = """
            allow:
              - { days: [Fri, Sun], from: "22:00", to: "02:00" }
              - { from: "23:00", to: "23:00" }
              - { days: Sat, from: "18:00", to: "24:00" }
            """
        let allow = try #require(spec(yaml)).allow
        #expect(allow[0].text == "Fri, Sun 22:00–02:00")
        // Sunday night runs past the end of the week into Monday.
        #expect(
            allow[0].spans == [
                WeeklySpan(from: Self.time(5, 22), to: Self.time(6, 2)),
                WeeklySpan(from: Self.time(7, 22), to: Self.time(1, 2)),
            ]
        )
        #expect(allow[0].spans.map(\.minutes) == [240, 240])
        // Equal times: a whole day, every day when `days` is left out.
        #expect(allow[1].text == "23:00–23:00")
        #expect(allow[1].spans.count == 7)
        #expect(allow[1].spans.allSatisfy { $0.minutes == 1440 })
        #expect(allow[2].spans == [WeeklySpan(from: Self.time(6, 18), to: Self.time(7, 0))])
        #expect(allow[2].text == "Sat 18:00–24:00")
    }

    @Test func unquotedTimesAreReadAsWritten() throws {
        // YAML 1.1 would read 09:00 as the number 540; the text is what counts.
        let yaml = """
            allow:
              - { days: Mon, from: 09:00, to: 17:30 }
              - { from: 7:05, to: 8:00 }
            """
        let allow = try #require(spec(yaml)).allow
        #expect(allow.map(\.text) == ["Mon 09:00–17:30", "07:05–08:00"])
        #expect(allow[0].spans == [WeeklySpan(from: Self.time(1, 9), to: Self.time(1, 17, 30))])
    }

    @Test func daysAloneAreWholeDays() throws {
        let deny = try #require(spec("deny:\n  - days: Sat-Sun")).deny
        #expect(deny == [WeeklyRange(days: [6, 7], from: 0, to: 1440)])
        #expect(deny[0].text == "Sat-Sun 00:00–24:00")
        #expect(
            deny[0].spans == [
                WeeklySpan(from: Self.time(6, 0), to: Self.time(7, 0)),
                WeeklySpan(from: Self.time(7, 0), to: Self.time(1, 0)),
            ]
        )
    }

    @Test func weeklySpansInAllowAndDeny() throws {
        let yaml = """
            allow:
              - from: tuesday 08:30
                to: Thu 18:00
            deny:
              - { from: Sun 23:00, to: MON 01:00 }
              - { from: Wed 12:00, to: Wed 12:00 }
            """
        let windows = try #require(spec(yaml))
        #expect(windows.allow == [WeeklyRange(from: Self.time(2, 8, 30), to: Self.time(4, 18))])
        #expect(windows.allow[0].text == "Tue 08:30 – Thu 18:00")
        #expect(windows.deny[0].text == "Sun 23:00 – Mon 01:00")
        #expect(windows.deny[0].spans[0].minutes == 120)
        // Equal ends: the whole week.
        #expect(windows.deny[1].spans[0].minutes == 10_080)
    }

    @Test func freezesWithAndWithoutTimes() throws {
        let yaml = """
            freezes:
              - { from: 2026-02-28, to: 2026-03-01 }
              - { from: "2028-02-29 23:59", to: 2028-03-01 00:01, reason: leap }
            deny: []
            """
        let windows = try #require(spec(yaml))
        #expect(windows.deny == [])
        #expect(
            windows.freezes == [
                Freeze(
                    from: LocalDateTime(year: 2026, month: 2, day: 28),
                    to: LocalDateTime(year: 2026, month: 3, day: 1)
                ),
                Freeze(
                    from: LocalDateTime(year: 2028, month: 2, day: 29, hour: 23, minute: 59),
                    to: LocalDateTime(year: 2028, month: 3, day: 1, minute: 1),
                    reason: "leap"
                ),
            ]
        )
        #expect(
            windows.freezes.map(\.text) == [
                "2026-02-28 00:00 – 2026-03-01 00:00", "2028-02-29 23:59 – 2028-03-01 00:01",
            ]
        )
    }

    // MARK: - Errors

    @Test func unknownTimeZone() {
        #expect(
            problems("timeZone: Asia/Seol") == [
                "slipway.yaml:2:13: apps[0].windows.timeZone: expected an IANA time zone like UTC, Europe/Berlin or "
                    + "Asia/Seoul, got \"Asia/Seol\"; did you mean `Asia/Seoul`?"
            ]
        )
        #expect(
            problems("timeZone: utc") == [
                "slipway.yaml:2:13: apps[0].windows.timeZone: expected an IANA time zone like UTC, Europe/Berlin or "
                    + "Asia/Seoul, got \"utc\"; did you mean `UTC`?"
            ]
        )
        #expect(
            problems("timeZone: Mars/Olympus_Mons") == [
                "slipway.yaml:2:13: apps[0].windows.timeZone: expected an IANA time zone like UTC, Europe/Berlin or "
                    + "Asia/Seoul, got \"Mars/Olympus_Mons\""
            ]
        )
    }

    @Test func badWeekdays() {
        let yaml = """
            allow:
              - { days: Mnday, from: "09:00", to: "17:00" }
              - { days: [Mon, Fir], from: "09:00", to: "17:00" }
              - { days: Mon-Wed-Fri, from: "09:00", to: "17:00" }
            deny:
              - { from: Frid 17:00, to: Mon 09:00 }
              - { from: Fri 17:00, to: Mon }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:3:15: apps[0].windows.allow[0].days: expected days like Mon, Mon-Fri, Fri-Mon or "
                    + "[Mon, Wed], got \"Mnday\"; did you mean `Monday`?",
                "slipway.yaml:4:21: apps[0].windows.allow[1].days[1]: expected days like Mon, Mon-Fri, Fri-Mon or "
                    + "[Mon, Wed], got \"Fir\"; did you mean `Fri`?",
                "slipway.yaml:5:15: apps[0].windows.allow[2].days: expected days like Mon, Mon-Fri, Fri-Mon or "
                    + "[Mon, Wed], got \"Mon-Wed-Fri\"",
                "slipway.yaml:7:15: apps[0].windows.deny[0].from: expected a weekday and time like Fri 17:00, got "
                    + "\"Frid 17:00\"; did you mean `Fri`?",
                "slipway.yaml:8:30: apps[0].windows.deny[1].to: expected a weekday and time like Fri 17:00, got "
                    + "\"Mon\"",
            ]
        )
    }

    @Test func badTimes() {
        let yaml = """
            allow:
              - { from: "25:00", to: "17:00" }
              - { from: "9am", to: "24:00" }
              - { from: "09:00", to: "17:60" }
              - { from: "24:00", to: Mon 09:00 }
            deny:
              - { from: Fri 17:00, to: "09:00" }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:3:15: apps[0].windows.allow[0].from: expected a time like 09:00 (HH:MM, 24-hour), got "
                    + "\"25:00\"",
                "slipway.yaml:4:15: apps[0].windows.allow[1].from: expected a time like 09:00 (HH:MM, 24-hour), got "
                    + "\"9am\"",
                "slipway.yaml:5:28: apps[0].windows.allow[2].to: expected a time like 09:00 (HH:MM, 24-hour), got "
                    + "\"17:60\"",
                "slipway.yaml:6:15: apps[0].windows.allow[3].from: expected a time like 09:00 (HH:MM, 24-hour), got "
                    + "\"24:00\"",
                "slipway.yaml:6:28: apps[0].windows.allow[3].to: expected a time like 09:00 (HH:MM, 24-hour), got "
                    + "\"Mon 09:00\"; write `from` and `to` both as times or both as weekday times",
                "slipway.yaml:8:30: apps[0].windows.deny[0].to: expected a weekday and time like Fri 17:00, got "
                    + "\"09:00\"; write `from` and `to` both as times or both as weekday times",
            ]
        )
    }

    @Test func badFreezes() {
        let yaml = """
            freezes:
              - { from: 2026-12-24, to: 2026-12-20 09:00 }
              - { from: 2026-12-24 10:00, to: 2026-12-24 10:00 }
              - { from: 2026-02-29, to: "2026-03-01 7:00" }
              - { from: 2026-12-24 }
              - { from: 2026-12-24, to: 2026-12-25, reason: [a] }
              - 2026-12-24
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:3:31: apps[0].windows.freezes[0].to: expected a date and time after `from` "
                    + "(2026-12-24 00:00), got \"2026-12-20 09:00\"",
                "slipway.yaml:4:37: apps[0].windows.freezes[1].to: expected a date and time after `from` "
                    + "(2026-12-24 10:00), got \"2026-12-24 10:00\"",
                "slipway.yaml:5:15: apps[0].windows.freezes[2].from: expected a date and time like 2026-12-24 09:00, "
                    + "or a date like 2026-12-24, got \"2026-02-29\"",
                "slipway.yaml:5:31: apps[0].windows.freezes[2].to: expected a date and time like 2026-12-24 09:00, "
                    + "or a date like 2026-12-24, got \"2026-03-01 7:00\"",
                "slipway.yaml:6:7: apps[0].windows.freezes[3]: missing required key `to`",
                "slipway.yaml:7:51: apps[0].windows.freezes[4].reason: expected a string, got a list",
                "slipway.yaml:8:7: apps[0].windows.freezes[5]: expected a freeze like {from: 2026-12-24, "
                    + "to: 2027-01-04 09:00, reason: year-end}, got \"2026-12-24\"",
            ]
        )
    }

    @Test func unknownKeys() {
        let yaml = """
            timezone: UTC
            allow:
              - { days: Mon, form: "09:00", to: "17:00" }
            freezes:
              - { from: 2026-12-24, to: 2026-12-25, raeson: xmas }
            blackout: []
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:2:3: apps[0].windows.timezone: unknown key `timezone`; did you mean `timeZone`?",
                // `from` is then missing.
                "slipway.yaml:4:7: apps[0].windows.allow[0]: missing required key `from`",
                "slipway.yaml:4:20: apps[0].windows.allow[0].form: unknown key `form`; did you mean `from`?",
                "slipway.yaml:6:43: apps[0].windows.freezes[0].raeson: unknown key `raeson`; did you mean `reason`?",
                "slipway.yaml:7:3: apps[0].windows.blackout: unknown key `blackout`; expected one of `timeZone`, "
                    + "`allow`, `deny`, `freezes`",
            ]
        )
    }

    @Test func structureErrors() {
        let yaml = """
            allow: []
            deny:
              - Fri 17:00
              - { days: Mon, from: Mon 09:00, to: Mon 10:00 }
              - { days: Mon, to: "10:00" }
              - {}
              - { to: Mon 09:00 }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:2:10: apps[0].windows.allow: expected at least one range, got an empty list; "
                    + "leave out `allow` to allow deploys at any time",
                "slipway.yaml:4:7: apps[0].windows.deny[0]: expected a range like {days: Mon-Fri, from: \"09:00\", "
                    + "to: \"17:00\"} or {from: Fri 17:00, to: Mon 09:00}, got \"Fri 17:00\"",
                "slipway.yaml:5:9: apps[0].windows.deny[1].days: `days` cannot be combined with weekday times like "
                    + "`Fri 17:00`; write times like \"17:00\" in `from` and `to`, or leave out `days`",
                "slipway.yaml:6:7: apps[0].windows.deny[2]: missing required key `from`",
                "slipway.yaml:7:7: apps[0].windows.deny[3]: missing required key `from`",
                "slipway.yaml:7:7: apps[0].windows.deny[3]: missing required key `to`",
                "slipway.yaml:8:7: apps[0].windows.deny[4]: missing required key `from`",
            ]
        )
        #expect(
            problems("- Mon") == [
                "slipway.yaml:2:3: apps[0].windows: expected a mapping, got a list"
            ]
        )
    }
}
