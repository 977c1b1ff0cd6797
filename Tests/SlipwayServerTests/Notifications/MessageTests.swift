import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import Testing

@Suite("Slack messages and webhook payloads")
struct MessageTests {
    /// The blocks of the Slack message for `notice`, decoded from its body.
    private func blocks(_ notice: Notice) -> [[String: Any]] {
        (NoticeFixtures.object(SlackMessage.body(for: notice))["blocks"] as? [[String: Any]]) ?? []
    }

    private func blockTypes(_ notice: Notice) -> [String] {
        blocks(notice).map { ($0["type"] as? String) ?? "?" }
    }

    private func fieldTexts(_ notice: Notice) -> [String] {
        let section = blocks(notice).first { $0["fields"] != nil }
        return ((section?["fields"] as? [[String: Any]]) ?? []).map { ($0["text"] as? String) ?? "" }
    }

    @Test func slackMessageWithEveryFact() throws {
        let message = NoticeFixtures.object(SlackMessage.body(for: NoticeFixtures.rollback))
        #expect(message["text"] as? String == "shop@prod: 2.0.0 rolled back to 1.0.0")
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        #expect(
            blocks.map { $0["type"] as? String } == ["header", "section", "section", "section", "context", "actions"]
        )

        let header = try #require(blocks[0]["text"] as? [String: Any])
        #expect(header["type"] as? String == "plain_text")
        #expect(header["text"] as? String == "shop@prod: 2.0.0 rolled back to 1.0.0")

        let fields = try #require(blocks[1]["fields"] as? [[String: Any]])
        #expect(fields.allSatisfy { $0["type"] as? String == "mrkdwn" })
        #expect(
            fields.map { $0["text"] as? String } == [
                "*App*\nshop",
                "*Environment*\nprod",
                "*Version*\n1.0.0 → 2.0.0",
                "*Strategy*\ncanary",
                "*Started by*\nalice",
                "*Reason*\nsuccessRate 0.97 &lt; 0.99 for 2 windows",
                "*Step*\n3 of 7: weight 25%",
                "*Result*\nrolled back",
                "*Duration*\n4m12s",
            ]
        )

        let checks = try #require(blocks[2]["text"] as? [String: Any])
        #expect(checks["type"] as? String == "mrkdwn")
        #expect(
            checks["text"] as? String == """
                *Failing checks*
                :x: `successRate &gt;= 0.99`: 0.97 (threshold 0.99, 1200 samples)
                *Passing checks*
                :white_check_mark: `p99 &lt;= 300ms`: 212ms (threshold 300ms, 1200 samples)
                :white_check_mark: `requests &gt;= 10`: 1200 (threshold 10)
                """
        )

        let details = try #require(blocks[3]["text"] as? [String: Any])
        #expect(
            details["text"] as? String
                == "*Details*\n*hook*: migrate-db\n*output*:\n```step 1 ok\nstep 2 &lt;failed&gt; &amp; stopped```"
        )

        let context = try #require((blocks[4]["elements"] as? [[String: Any]])?.first)
        #expect(
            context["text"] as? String == "Slipway · rolloutRollingBack · critical · rollout #12 · "
                + "2025-03-01T12:00:00.250Z"
        )

        // The report first: it is what a person acts on.
        let buttons = try #require(blocks[5]["elements"] as? [[String: Any]])
        #expect(buttons.map { $0["type"] as? String } == ["button", "button"])
        #expect(buttons[0]["url"] as? String == "https://slipway.example.com/reports/shop%40prod/12")
        #expect((buttons[0]["text"] as? [String: Any])?["text"] as? String == "Open the report")
        #expect(buttons[1]["url"] as? String == "https://slipway.example.com/apps/shop/rollouts/12")
        #expect((buttons[1]["text"] as? [String: Any])?["text"] as? String == "Open in dashboard")
    }

    @Test func slackMessageWithFewFacts() {
        var notice = NoticeFixtures.bare(.rolloutStarted, title: "shop: rolling out 2.0.0")
        notice.to = "2.0.0"
        #expect(blockTypes(notice) == ["header", "section", "context"])
        #expect(fieldTexts(notice) == ["*App*\nshop", "*Version*\n2.0.0"])
        notice.from = "1.0.0"
        notice.to = nil
        notice.duration = .milliseconds(250)
        #expect(fieldTexts(notice) == ["*App*\nshop", "*Version*\n1.0.0", "*Duration*\n250ms"])
        notice.dashboardURL = "javascript:alert(1)"
        #expect(blockTypes(notice) == ["header", "section", "context"])
    }

    @Test func slackEscapesControlCharacters() {
        #expect(SlackMessage.escape("a & b <c> <!channel>") == "a &amp; b &lt;c&gt; &lt;!channel&gt;")
        var notice = NoticeFixtures.bare(.deployForced, .warning, title: "<!here> deploy & go")
        notice.reason = "<https://evil.example|click>"
        let message = NoticeFixtures.object(SlackMessage.body(for: notice))
        #expect(message["text"] as? String == "&lt;!here&gt; deploy &amp; go")
        #expect(fieldTexts(notice).contains("*Reason*\n&lt;https://evil.example|click&gt;"))
    }

    @Test func slackRespectsLimits() throws {
        var notice = NoticeFixtures.bare(.rolloutFinished, title: String(repeating: "t", count: 400))
        notice.reason = String(repeating: "&", count: 1000)
        notice.details = [NoticeDetail("output", String(repeating: "line\n", count: 2000))]
        notice.checks = (0..<200).map {
            CheckEvidence(check: "check \($0) <= 1", value: "2", threshold: "1", samples: 5, passed: false)
        }
        let blocks = self.blocks(notice)
        let header = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        #expect(header.utf16.count == SlackMessage.headerLimit)
        #expect(header.hasSuffix("…"))
        let reason = try #require(fieldTexts(notice).first { $0.hasPrefix("*Reason*") })
        #expect(reason.utf16.count <= SlackMessage.fieldLimit)
        #expect(reason.hasSuffix("&amp;…"))
        let sections = blocks.compactMap { ($0["text"] as? [String: Any])?["text"] as? String }.dropFirst()
        #expect(sections.count == 2)
        for text in sections {
            #expect(text.utf16.count <= SlackMessage.sectionLimit)
        }
        #expect(sections.first?.hasSuffix("…") == true)
    }

    @Test func webhookPayloadWithEveryFact() throws {
        let payload = NoticeFixtures.object(WebhookPayload.body(for: NoticeFixtures.rollback))
        #expect(payload["event"] as? String == "rolloutRollingBack")
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["app"] as? String == "shop")
        #expect(payload["environment"] as? String == "prod")
        #expect(payload["rollout"] as? Int == 12)
        #expect(payload["title"] as? String == "shop@prod: 2.0.0 rolled back to 1.0.0")
        #expect(payload["from"] as? String == "1.0.0")
        #expect(payload["to"] as? String == "2.0.0")
        #expect(payload["strategy"] as? String == "canary")
        #expect(payload["by"] as? String == "alice")
        #expect(payload["reason"] as? String == "successRate 0.97 < 0.99 for 2 windows")
        #expect(payload["step"] as? String == "3 of 7: weight 25%")
        #expect(payload["result"] as? String == "rolled back")
        #expect(payload["durationMs"] as? Int == 252_500)
        #expect(payload["dashboardURL"] as? String == "https://slipway.example.com/apps/shop/rollouts/12")
        #expect(payload["reportURL"] as? String == "https://slipway.example.com/reports/shop%40prod/12")
        #expect(payload["at"] as? String == "2025-03-01T12:00:00.250Z")
        let checks = try #require(payload["checks"] as? [[String: Any]])
        #expect(checks.count == 3)
        #expect(checks[1]["check"] as? String == "successRate >= 0.99")
        #expect(checks[1]["value"] as? String == "0.97")
        #expect(checks[1]["threshold"] as? String == "0.99")
        #expect(checks[1]["samples"] as? Int == 1200)
        #expect(checks[1]["passed"] as? Bool == false)
        #expect(checks[0]["passed"] as? Bool == true)
        #expect(checks[2]["samples"] is NSNull)
        let details = try #require(payload["details"] as? [String: Any])
        #expect(details["hook"] as? String == "migrate-db")
        #expect(details["output"] as? String == "step 1 ok\nstep 2 <failed> & stopped")
        #expect(payload.count == 19)
    }

    @Test func webhookPayloadIsStable() throws {
        let body = WebhookPayload.body(for: NoticeFixtures.bare(.rolloutStarted))
        let text = try #require(String(bytes: body, encoding: .utf8))
        #expect(
            text == #"{"app":"shop","at":"2025-03-01T12:00:00.250Z","by":null,"checks":[],"dashboardURL":null,"#
                + #""details":{},"durationMs":null,"environment":null,"event":"rolloutStarted","from":null,"#
                + #""reason":null,"reportURL":null,"result":null,"rollout":null,"severity":"info","step":null,"#
                + #""strategy":null,"#
                + #""title":"t","to":null}"#
        )
        #expect(WebhookPayload.body(for: NoticeFixtures.rollback) == WebhookPayload.body(for: NoticeFixtures.rollback))
    }
}
