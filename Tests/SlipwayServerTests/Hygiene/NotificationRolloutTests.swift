import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// Slack notices and a webhook gate around real rollouts, against real HTTP receivers on loopback.
    @Suite struct NotificationRolloutTests {
        static let secretPath = "/services/T0SLIPWAY/B0SECRET/xoxbSECRETTOKEN123"

        /// The Slack messages the receiver got, as (header text, field texts, section texts) by event kind.
        static func messages(
            _ receiver: TestReceiver
        ) -> [(kind: String, header: String, fields: [String], texts: [String])] {
            receiver.requests.compactMap { request in
                guard let json = request.json, let blocks = json["blocks"] as? [[String: Any]] else { return nil }
                let header = ((blocks.first?["text"] as? [String: Any])?["text"] as? String) ?? ""
                let fields = blocks.compactMap { $0["fields"] as? [[String: Any]] }.flatMap { $0 }
                    .compactMap { $0["text"] as? String }
                let texts = blocks.compactMap { ($0["text"] as? [String: Any])?["text"] as? String }
                let context = blocks.first { $0["type"] as? String == "context" }
                let kind =
                    ((context?["elements"] as? [[String: Any]])?.first?["text"] as? String)?
                    .split(separator: "·").dropFirst().first?.trimmingCharacters(in: .whitespaces) ?? "?"
                return (kind, header, fields, texts)
            }
        }

        @Test func slackHearsEveryStartPromotionAndRollbackWithTheEvidenceAndAGateHoldsThePromotion() async throws {
            let slack = try await TestReceiver.start()
            let gate = try await TestReceiver.start(script: [.status(503, "not yet"), .status(503, "not yet")])
            let downPort = try await TestReceiver.closedPort()
            setenv("SLIPWAY_TEST_SLACK_URL", "http://127.0.0.1:\(slack.port)\(Self.secretPath)", 1)
            let yaml = ControllerFixture.demoConfig(
                extra: RolloutConfig.app(
                    strategy: """
                        canary:
                          steps:
                            - weight: 20
                            - pause: 1s
                        """,
                    analysis: """
                        interval: 500ms
                        minRequests: 10
                        failFast: ["successRate >= 95%"]
                        """
                ) + """

                        hooks:
                          prePromotion:
                            - name: qa-approval
                              webhook:
                                url: "http://127.0.0.1:\(gate.port)/approve?token=gate-secret-42"
                                interval: 200ms
                                deadline: 20s
                        notifications:
                          - name: team-slack
                            slack: { url: { env: SLIPWAY_TEST_SLACK_URL } }
                          - name: audit
                            webhook: { url: "http://127.0.0.1:\(downPort)/audit/hook-secret-99" }
                            events: [rolloutStarted]
                            timeout: 200ms
                            retries: 1
                    """
            )
            let fixture = try await ControllerFixture(yaml: yaml)
            try await fixture.waitUntilServing()
            let load = LoadClient(port: fixture.port)
            await load.waitFor(300)

            // 2.0.0 waits at the gate until its third question, then is promoted.
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", by: "ada", reason: "new checkout")
            )
            #expect(try await fixture.waitForOutcome().state == "promoted")
            let questions = gate.requests
            #expect(questions.count == 3)
            #expect(questions.map { $0.json?["attempt"] as? Int } == [1, 2, 3])
            #expect(questions.allSatisfy { $0.method == "POST" && $0.path == "/approve?token=gate-secret-42" })
            let asked = try #require(questions.first?.json)
            #expect(asked["app"] as? String == "shop")
            #expect(asked["point"] as? String == "prePromotion")
            #expect(asked["from"] as? String == "1.0.0" && asked["to"] as? String == "2.0.0")
            #expect(asked["by"] as? String == "ada" && asked["reason"] as? String == "new checkout")
            #expect((asked["candidateURLs"] as? [String])?.isEmpty == false)
            #expect(try fixture.events(.gateWaiting).count == 1)
            #expect(try fixture.events(.hookFinished).last?.fields["attempts"] == 3)

            // 3.0.0 answers errors and is rolled back by fail-fast.
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "3.0.0", env: ["DEMO_ERROR_RATE": "0.3"], by: "bob", reason: "faster search")
            )
            #expect(try await fixture.waitForOutcome().state == "rolledBack")
            await load.stop()

            let messages = try await {
                try await waitUntil("the rollback's notices arrive", timeout: .seconds(10)) {
                    Self.messages(slack).contains { $0.kind == "rolloutFinished" && $0.header.contains("3.0.0") }
                }
                return Self.messages(slack)
            }()
            let started = try #require(messages.first { $0.kind == "rolloutStarted" })
            #expect(started.header == "shop: rollout #1 of 2.0.0 started (canary, from 1.0.0)")
            #expect(started.fields.contains("*App*\nshop"))
            #expect(started.fields.contains("*Version*\n1.0.0 → 2.0.0"))
            #expect(started.fields.contains("*Strategy*\ncanary"))
            #expect(started.fields.contains("*Started by*\nada"))
            #expect(started.fields.contains("*Reason*\nnew checkout"))
            let promoted = try #require(messages.first { $0.kind == "rolloutPromoted" })
            #expect(promoted.header == "shop: 2.0.0 promoted (was 1.0.0)")
            #expect(promoted.fields.contains { $0.hasPrefix("*Step*\n") })
            let rollingBack = try #require(messages.first { $0.kind == "rolloutRollingBack" })
            #expect(rollingBack.header == "shop: rolling back 3.0.0 to 2.0.0")
            #expect(rollingBack.fields.contains("*Started by*\nbob"))
            #expect(rollingBack.fields.contains("*Reason*\nfaster search"))
            let evidence = try #require(rollingBack.texts.first { $0.hasPrefix("*Failing checks*") })
            #expect(evidence.contains("`successRate &gt;= 95%`"))
            #expect(evidence.contains("(threshold 95%, "))
            #expect(evidence.contains(" samples)"))
            let finished = try #require(messages.last { $0.kind == "rolloutFinished" })
            #expect(finished.header == "shop: 3.0.0 rolled back to 2.0.0")
            #expect(finished.fields.contains("*Result*\nrolled back"))
            #expect(finished.fields.contains { $0.hasPrefix("*Duration*\n") })
            #expect(finished.texts.contains { $0.hasPrefix("*Failing checks*") })

            // The audit receiver is down: each notice it wanted is a notificationFailed event, nothing else broke.
            try await waitUntil("the audit channel gives up", timeout: .seconds(10)) {
                try fixture.events(.notificationFailed).count >= 2
            }
            let failure = try #require(try fixture.events(.notificationFailed).first)
            #expect(failure.fields["channel"] == "audit")
            #expect(failure.fields["event"] == "rolloutStarted")
            #expect(failure.fields["attempts"] == 2)

            // No secret URL anywhere: not in the log, not in what the API shows.
            let everything = try fixture.log.events(app: "shop", limit: .max)
            let text = String(decoding: try APIJSON.encode(everything), as: UTF8.self)
            for secret in ["xoxbSECRETTOKEN123", "hook-secret-99", "gate-secret-42", "B0SECRET"] {
                #expect(!text.contains(secret), "\(secret) leaked into the event log")
            }
            try await fixture.stop()
            await slack.stop()
            await gate.stop()
        }
    }
}
