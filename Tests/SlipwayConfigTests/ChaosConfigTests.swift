import Foundation
import SlipwayConfig
import Testing

@Suite("Chaos monkey")
struct ChaosConfigTests {
    /// The minimal app with `app` appended to its mapping, and `top` at the top of the file.
    static func yaml(top: String = "", app: String) -> String {
        top + "\n" + ConfigFixtures.minimal + "\n"
            + app.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    @Test func anAppWithoutTheSectionHasNoMonkey() throws {
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).apps[0].monkey == nil)
        // A top-level section gives defaults, not an opt-in.
        #expect(
            try ConfigFixtures.parse(Self.yaml(top: "chaos: {monkey: {leashed: true}}", app: "")).apps[0].monkey == nil
        )
    }

    @Test func anEmptySectionTakesEveryDefault() throws {
        let monkey = try #require(try ConfigFixtures.parse(Self.yaml(app: "chaos: {monkey: {}}")).apps[0].monkey)
        #expect(monkey.enabled && !monkey.leashed)
        #expect(monkey.meanTimeBetweenKillsInWorkDays == 5 && monkey.minTimeBetweenKillsInWorkDays == 1)
        #expect(monkey.action == .kill && monkey.signal == "SIGKILL" && monkey.hangFor == .seconds(30))
        #expect(monkey.schedule.allow.map(\.text) == ["Mon-Fri 09:00–15:00"])
        #expect(monkey.schedule.timeZone == "UTC")
    }

    @Test func everyKeyAndTheTopLevelDefaultsAndKillSwitch() throws {
        let config = try ConfigFixtures.parse(
            Self.yaml(
                top: """
                    chaos:
                      monkey:
                        enabled: false
                        meanTimeBetweenKillsInWorkDays: 2
                    """,
                app: """
                    chaos:
                      monkey:
                        enabled: true
                        leashed: true
                        minTimeBetweenKillsInWorkDays: 0.5
                        action: either
                        signal: SIGTERM
                        hangFor: 45s
                        schedule:
                          timeZone: Europe/Paris
                          allow: [{days: Tue-Thu, from: "10:00", to: "12:00"}]
                          freezes: [{from: 2026-12-24, to: 2027-01-02, reason: holidays}]
                    """
            )
        )
        let monkey = try #require(config.apps[0].monkey)
        // The top level's `enabled: false` wins; its mean is the app's default.
        #expect(!monkey.enabled)
        #expect(monkey.leashed)
        #expect(monkey.meanTimeBetweenKillsInWorkDays == 2 && monkey.minTimeBetweenKillsInWorkDays == 0.5)
        #expect(monkey.action == .either && monkey.signal == "SIGTERM" && monkey.hangFor == .seconds(45))
        #expect(monkey.schedule.timeZone == "Europe/Paris")
        #expect(monkey.schedule.allow.map(\.text) == ["Tue-Thu 10:00–12:00"])
        #expect(monkey.schedule.freezes.count == 1)
        #expect(monkey.keyPath == "apps[0].chaos.monkey")
    }

    @Test func badValuesNameTheirKeyAndWhatIsExpected() {
        let cases: [(String, String)] = [
            (
                "chaos: {monkey: {meanTimeBetweenKillsInWorkDays: 0}}",
                "apps[0].chaos.monkey.meanTimeBetweenKillsInWorkDays"
            ),
            (
                "chaos: {monkey: {minTimeBetweenKillsInWorkDays: -1}}",
                "apps[0].chaos.monkey.minTimeBetweenKillsInWorkDays"
            ),
            ("chaos: {monkey: {action: explode}}", "kill, hang or either"),
            ("chaos: {monkey: {signal: SIGSTOP}}", "one of SIGKILL"),
            ("chaos: {monkey: {hangFor: 1h}}", "a duration up to 10m"),
            ("chaos: {monkey: {leashed: yes}}", "true or false"),
            ("chaos: {monkey: {schedule: {timeZone: Mars/Olympus}}}", "apps[0].chaos.monkey.schedule.timeZone"),
            ("chaos: {monkey: {period: 3}}", "period"),
            ("chaos: {gorilla: {}}", "gorilla"),
        ]
        for (app, expected) in cases {
            let problems = ConfigFixtures.problems(Self.yaml(app: app))
            #expect(problems.count == 1, "\(app): \(problems)")
            #expect(problems.first?.contains(expected) == true, "\(app): \(problems)")
        }
    }
}

@Suite("Scheduled restarts")
struct ScheduledRestartConfigTests {
    @Test func everyAndWindowAreReadAndBadValuesNamed() throws {
        let config = try ConfigFixtures.parse(
            ConfigFixtures.minimal
                + "\n    restart: {every: 24h, window: {timeZone: Asia/Seoul, allow: [{days: Mon-Fri, from: \"03:00\", to: \"05:00\"}]}}"
        )
        #expect(config.apps[0].restart.every == .seconds(86_400))
        #expect(config.apps[0].restart.window?.timeZone == "Asia/Seoul")
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).apps[0].restart.every == nil)
        let problems = ConfigFixtures.problems(ConfigFixtures.minimal + "\n    restart: {every: 5s}")
        #expect(problems.count == 1 && problems.first?.contains("apps[0].restart.every") == true, "\(problems)")
        #expect(problems.first?.contains("at least 10s") == true, "\(problems)")
    }
}
