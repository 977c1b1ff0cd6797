import SlipwayCore
import Testing

@testable import SlipwayConfig

@Suite("The notifications list")
struct NotificationsConfigTests {
    /// The top-level `notifications` of `yaml` read by `ConfigDecoder.notifications`, with the problems reported.
    private func decode(_ yaml: String) -> (channels: [NotificationChannelSpec]?, problems: [String]) {
        guard case .success(let document) = YAMLComposer.compose(yaml), let root = document.root else {
            Issue.record("not a YAML document")
            return (nil, [])
        }
        let decoder = ConfigDecoder(
            file: ConfigFixtures.file,
            baseDirectory: ConfigFixtures.baseDirectory,
            document: document
        )
        guard let entry = decoder.entries(of: root, at: "")?.first(where: { $0.name == "notifications" }) else {
            Issue.record("no notifications key")
            return (nil, [])
        }
        let channels = decoder.notifications(entry)
        return (channels, ConfigErrors(decoder.diagnostics).diagnostics.map(\.description))
    }

    private func channels(_ yaml: String) throws -> [NotificationChannelSpec] {
        let (channels, problems) = decode(yaml)
        #expect(problems == [])
        return try #require(channels)
    }

    private func problems(_ yaml: String) -> [String] {
        decode(yaml).problems
    }

    @Test func everyForm() throws {
        let yaml = """
            notifications:
              - name: team-slack
                slack:
                  url: { env: SLACK_WEBHOOK_URL }
                events: [rolloutStarted, rolloutRollingBack]
                severity: warning
                timeout: 2s
                retries: 0
              - name: audit
                webhook:
                  url: https://audit.example.com/hooks/slipway
              - name: from-file
                webhook:
                  url: { file: secrets/../secrets/hook.url }
                severity: critical
                timeout: 100ms
                retries: 10
            """
        let specs = try channels(yaml)
        #expect(
            specs == [
                NotificationChannelSpec(
                    name: "team-slack",
                    kind: .slack,
                    url: .environment("SLACK_WEBHOOK_URL"),
                    events: [.rolloutStarted, .rolloutRollingBack],
                    minimumSeverity: .warning,
                    timeout: .seconds(2),
                    retries: 0,
                    keyPath: "notifications[0]"
                ),
                NotificationChannelSpec(
                    name: "audit",
                    kind: .webhook,
                    url: .literal(SecretText("https://audit.example.com/hooks/slipway")),
                    keyPath: "notifications[1]"
                ),
                NotificationChannelSpec(
                    name: "from-file",
                    kind: .webhook,
                    url: .file("/srv/shop/secrets/hook.url"),
                    minimumSeverity: .critical,
                    timeout: .milliseconds(100),
                    retries: 10,
                    keyPath: "notifications[2]"
                ),
            ]
        )
        #expect(specs[0].urlKeyPath == "notifications[0].slack.url")
        #expect(specs[2].urlKeyPath == "notifications[2].webhook.url")
    }

    @Test func defaults() throws {
        let spec = try #require(try channels("notifications:\n  - name: a\n    slack: { url: { env: A } }").first)
        #expect(spec.events == NotificationChannelSpec.defaultEvents)
        #expect(spec.minimumSeverity == .info)
        #expect(spec.timeout == .seconds(5))
        #expect(spec.retries == 4)
        #expect(spec.keyPath == "notifications[0]")
        #expect(
            NotificationChannelSpec.defaultEvents == [
                .rolloutStarted, .rolloutPaused, .rolloutPromoted, .rolloutRollingBack, .rolloutFinished,
                .crashLoopBackoff, .hookFinished, .deployForced, .experimentConcluded,
            ]
        )
        #expect(!NotificationChannelSpec.defaultEvents.contains(.notificationFailed))
        #expect(spec.accepts(.rolloutStarted, severity: .info))
        #expect(!spec.accepts(.instanceStarted, severity: .critical))
    }

    @Test func emptyLists() throws {
        #expect(try channels("notifications:") == [])
        #expect(try channels("notifications: []") == [])
    }

    @Test func severityOrder() {
        #expect(NotificationSeverity.info < .warning)
        #expect(NotificationSeverity.warning < .critical)
        #expect(!(NotificationSeverity.critical < .info))
        #expect(NotificationSeverity.allCases.sorted() == [.info, .warning, .critical])
    }

    @Test func eventErrors() {
        let yaml = """
            notifications:
              - name: a
                slack: { url: { env: A } }
                events: [rolloutStart, notificationFailed, bogus, rolloutStarted, rolloutStarted, [x]]
              - name: b
                slack: { url: { env: B } }
                events: []
              - name: c
                slack: { url: { env: C } }
                events: rolloutStarted
            """
        let listed = EventKind.allCases.filter { $0 != .notificationFailed }.map { "`\($0.rawValue)`" }
        #expect(
            problems(yaml) == [
                "slipway.yaml:4:14: notifications[0].events[0]: unknown event kind `rolloutStart`; did you mean "
                    + "`rolloutStarted`?",
                "slipway.yaml:4:28: notifications[0].events[1]: `notificationFailed` cannot be sent as a notification: "
                    + "a notification about a failed notification could fail the same way; failures are recorded in "
                    + "the event log",
                "slipway.yaml:4:48: notifications[0].events[2]: unknown event kind `bogus`; expected one of "
                    + listed.joined(separator: ", "),
                "slipway.yaml:4:71: notifications[0].events[4]: event kind `rolloutStarted` is already listed",
                "slipway.yaml:4:87: notifications[0].events[5]: expected an event kind like rolloutStarted, got a list",
                "slipway.yaml:7:13: notifications[1].events: expected at least one event kind, got an empty list",
                "slipway.yaml:10:13: notifications[2].events: expected a list of event kinds like "
                    + "[rolloutStarted, rolloutFinished], got \"rolloutStarted\"",
            ]
        )
    }

    @Test func valueErrors() {
        let yaml = """
            notifications:
              - name: a
                slack: { url: { env: A } }
                severity: critcal
                timeout: 50ms
                retries: 11
              - name: b
                slack: { url: { env: B } }
                severity: loud
                timeout: 2m
                retries: -1
                retrys: 3
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:4:15: notifications[0].severity: expected one of info, warning or critical, got "
                    + "\"critcal\"; did you mean `critical`?",
                "slipway.yaml:5:14: notifications[0].timeout: expected a duration from 100ms to 1m, got \"50ms\"",
                "slipway.yaml:6:14: notifications[0].retries: expected an integer from 0 to 10, got 11",
                "slipway.yaml:9:15: notifications[1].severity: expected one of info, warning or critical, got "
                    + "\"loud\"",
                "slipway.yaml:10:14: notifications[1].timeout: expected a duration from 100ms to 1m, got \"2m\"",
                "slipway.yaml:11:14: notifications[1].retries: expected an integer from 0 to 10, got -1",
                "slipway.yaml:12:5: notifications[1].retrys: unknown key `retrys`; did you mean `retries`?",
            ]
        )
    }

    @Test func nameErrors() {
        let yaml = """
            notifications:
              - name: team
                slack: { url: { env: A } }
              - name: Team_Slack
                slack: { url: { env: B } }
              - webhook: { url: { env: C } }
              - name: team
                webhook: { url: { env: D } }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:4:11: notifications[1].name: expected a channel name of lowercase letters, digits "
                    + "and '-', starting with a letter, at most 63 characters, got \"Team_Slack\"",
                "slipway.yaml:6:5: notifications[2]: missing required key `name`",
                "slipway.yaml:7:11: notifications[3].name: channel name `team` is already used by notifications[0]",
            ]
        )
        let (channels, _) = decode(yaml)
        #expect(channels?.map(\.name) == ["team"])
    }

    @Test func slackOrWebhook() {
        let yaml = """
            notifications:
              - name: both
                slack: { url: { env: A } }
                webhook: { url: { env: B } }
              - name: neither
                events: [rolloutStarted]
              - name: no-url
                slack: {}
              - name: empty
                slack:
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:4:5: notifications[0].webhook: `slack` and `webhook` cannot both be set; a channel "
                    + "posts to one place; add another channel for the other",
                "slipway.yaml:5:5: notifications[1]: expected exactly one of `slack` or `webhook`, got neither",
                "slipway.yaml:8:12: notifications[2].slack: missing required key `url`",
                "slipway.yaml:10:11: notifications[3].slack: expected a mapping like {url: {env: NAME}}, got an "
                    + "empty value",
            ]
        )
    }

    @Test func secretSourceErrors() {
        let yaml = """
            notifications:
              - name: a
                slack: { url: { env: A, file: a.url } }
              - name: b
                slack: { url: {} }
              - name: c
                slack: { url: { evn: A } }
              - name: d
                slack: { url: { env: 9LIVES } }
              - name: e
                slack: { url: { file: "" } }
              - name: f
                slack: { url: [a] }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:3:29: notifications[0].slack.url.file: `env` and `file` cannot both be set; choose one",
                "slipway.yaml:5:19: notifications[1].slack.url: expected exactly one of `env` or `file`, got neither",
                "slipway.yaml:7:19: notifications[2].slack.url: expected exactly one of `env` or `file`, got neither",
                "slipway.yaml:7:21: notifications[2].slack.url.evn: unknown key `evn`; did you mean `env`?",
                "slipway.yaml:9:26: notifications[3].slack.url.env: expected an environment variable name like "
                    + "SLACK_WEBHOOK_URL, got a value that is not shown, as it may be a secret",
                "slipway.yaml:11:27: notifications[4].slack.url.file: expected a path, got \"\"",
                "slipway.yaml:13:19: notifications[5].slack.url: expected an http or https URL, {env: NAME} or "
                    + "{file: PATH}, got a list",
            ]
        )
    }

    @Test func invalidLiteralURLsAreNeverQuoted() {
        let secrets = [
            "ftp://hooks.example.com/services/T0SECRET/B0SECRET/tokenSECRET",
            "hooks.example.com/services/T0SECRET/B0SECRET/tokenSECRET",
            "https:///services/T0SECRET",
            "https://hooks.example.com/services/T0SECRET with space",
        ]
        for secret in secrets {
            let yaml = "notifications:\n  - name: a\n    slack:\n      url: \"\(secret)\""
            let found = problems(yaml)
            #expect(found.count == 1)
            let problem = found.first ?? ""
            #expect(problem.hasPrefix("slipway.yaml:4:12: notifications[0].slack.url: expected an http or https URL"))
            #expect(!problem.contains("SECRET"))
            #expect(!problem.contains("hooks.example.com"))
        }
    }

    @Test func misplacedURLsAreNeverQuoted() {
        let url = "https://hooks.slack.com/services/T0SECRET/B0SECRET/tokenSECRET"
        let cases = [
            ("notifications: \(url)", "slipway.yaml:1:16: notifications: expected a list of notification channels"),
            ("notifications:\n  - \(url)", "slipway.yaml:2:5: notifications[0]: expected a mapping with `name`"),
            (
                "notifications:\n  - name: a\n    slack: \(url)",
                "slipway.yaml:3:12: notifications[0].slack: expected a mapping like {url: {env: NAME}}"
            ),
            (
                "notifications:\n  - name: a\n    slack: { url: { env: \"\(url)\" } }",
                "slipway.yaml:3:26: notifications[0].slack.url.env: expected an environment variable name"
            ),
        ]
        for (yaml, prefix) in cases {
            let found = problems(yaml)
            #expect(found.count == 1)
            #expect(found.first?.hasPrefix(prefix) == true, "\(found)")
            #expect(found.first?.contains("SECRET") == false)
            #expect(found.first?.contains("hooks.slack.com") == false)
        }
    }

    @Test func literalsAreRedactedInDescriptions() throws {
        let url = "https://hooks.slack.com/services/T0SECRET/B0SECRET/tokenSECRET"
        let spec = try #require(
            try channels("notifications:\n  - name: a\n    slack:\n      url: \(url)").first
        )
        #expect(spec.url == .literal(SecretText(url)))
        guard case .literal(let literal) = spec.url else {
            Issue.record("not a literal")
            return
        }
        #expect(literal.value == url)
        var dumped = ""
        dump(spec, to: &dumped)
        var dumpedSource = ""
        dump(spec.url, to: &dumpedSource)
        let texts = [
            "\(spec.url)", String(reflecting: spec.url), String(describing: spec), String(reflecting: spec),
            "\(literal)", String(reflecting: literal), dumped, dumpedSource,
        ]
        for text in texts {
            #expect(!text.contains("SECRET"), "\(text)")
            #expect(!text.contains("hooks.slack.com"), "\(text)")
        }
        #expect(spec.url.description == "a value written in the configuration")
        #expect(SecretSource.environment("A").description == "the environment variable A")
        #expect(SecretSource.file("/a").description == "the file /a")
    }

    @Test func httpURLs() {
        #expect(SecretURLRules.isHTTPURL("https://hooks.slack.com/services/T/B/X"))
        #expect(SecretURLRules.isHTTPURL("http://127.0.0.1:8080/hook?x=1"))
        #expect(SecretURLRules.isHTTPURL("HTTPS://example.com"))
        #expect(!SecretURLRules.isHTTPURL("ftp://example.com/x"))
        #expect(!SecretURLRules.isHTTPURL("https://"))
        #expect(!SecretURLRules.isHTTPURL("example.com/x"))
        #expect(!SecretURLRules.isHTTPURL("https://example.com/a b"))
        #expect(!SecretURLRules.isHTTPURL(""))
    }
}
