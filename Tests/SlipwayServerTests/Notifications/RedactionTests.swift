import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import Testing

@Suite("Redaction and resolving channel URLs")
struct RedactionTests {
    private let secretURL = "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/xoxSECRETtoken3abcdef"

    private func spec(_ url: SecretSource) -> NotificationChannelSpec {
        NotificationChannelSpec(name: "team-slack", kind: .slack, url: url, keyPath: "notifications[0]")
    }

    @Test func redactedURLsKeepSchemeAndHost() {
        #expect(Redaction.url(secretURL) == "https://hooks.slack.com/…")
        #expect(Redaction.url("http://user:pass@127.0.0.1:8080/a?b=c") == "http://127.0.0.1/…")
        #expect(Redaction.url("not a url") == Redaction.unparsableURL)
    }

    @Test func scrubbingRemovesURLsPathsAndTokens() {
        let text = """
            POST \(secretURL) failed; path /services/T0SECRET1/B0SECRET2/xoxSECRETtoken3abcdef; \
            token xoxSECRETtoken3abcdef; other https://example.com/x
            """
        let scrubbed = Redaction.scrub(text, secretURLs: [secretURL])
        #expect(!scrubbed.contains("SECRET"))
        #expect(scrubbed.contains("POST https://hooks.slack.com/… failed"))
        #expect(scrubbed.contains("https://example.com/x"))
        let withQuery = "https://example.com/hook?token=abc123secret"
        #expect(Redaction.scrub("GET /hook?token=abc123secret", secretURLs: [withQuery]) == "GET https://example.com/…")
    }

    @Test func resolvesEachSource() throws {
        let fromLiteral = try ResolvedChannel.resolve(spec(.literal(SecretText(secretURL))), environment: [:])
        #expect(fromLiteral.redactedURL == "https://hooks.slack.com/…")
        #expect(fromLiteral.name == "team-slack")

        let fromEnvironment = try ResolvedChannel.resolve(
            spec(.environment("SLACK_URL")),
            environment: ["SLACK_URL": " \(secretURL)\n"]
        )
        #expect(fromEnvironment.redactedURL == "https://hooks.slack.com/…")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hook-\(UUID()).url").path
        try Data("\(secretURL)\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try ResolvedChannel.resolve(spec(.file(file)), environment: [:])
        #expect(fromFile.redactedURL == "https://hooks.slack.com/…")

        var dumped = ""
        dump(fromFile, to: &dumped)
        #expect(!dumped.contains("SECRET"))
        #expect(!String(describing: fromFile).contains("SECRET"))
    }

    @Test func resolutionErrorsNameTheSourceNotTheValue() throws {
        #expect(
            throws: ChannelResolutionError(spec(.environment("SLACK_URL")), .variableNotSet("SLACK_URL"))
        ) {
            try ResolvedChannel.resolve(spec(.environment("SLACK_URL")), environment: [:])
        }
        do {
            _ = try ResolvedChannel.resolve(spec(.environment("SLACK_URL")), environment: ["SLACK_URL": "  "])
            Issue.record("an empty variable was accepted")
        } catch {
            #expect(
                error.description
                    == "notifications[0].slack.url: the environment variable SLACK_URL is empty (channel team-slack)"
            )
        }
        do {
            let wrong = "ftp://hooks.slack.com/services/T0SECRET1/B0SECRET2"
            _ = try ResolvedChannel.resolve(spec(.environment("SLACK_URL")), environment: ["SLACK_URL": wrong])
            Issue.record("an ftp URL was accepted")
        } catch {
            #expect(
                error.description
                    == "notifications[0].slack.url: the environment variable SLACK_URL does not hold an http or "
                    + "https URL (the value is not shown) (channel team-slack)"
            )
        }
        do {
            _ = try ResolvedChannel.resolve(spec(.file("/nonexistent/slipway/hook.url")), environment: [:])
            Issue.record("a missing file was accepted")
        } catch {
            #expect(
                error.description
                    == "notifications[0].slack.url: the file /nonexistent/slipway/hook.url cannot be read: no such "
                    + "file (channel team-slack)"
            )
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-empty-\(UUID()).url").path
        try Data(" \n".utf8).write(to: URL(fileURLWithPath: empty))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: ChannelResolutionError(spec(.file(empty)), .fileEmpty(empty))) {
            try ResolvedChannel.resolve(spec(.file(empty)), environment: [:])
        }
    }
}
