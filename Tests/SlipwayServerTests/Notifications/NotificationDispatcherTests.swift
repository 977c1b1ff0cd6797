import AsyncHTTPClient
import Foundation
import NIOPosix
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayServer

/// The dispatcher against a real HTTP receiver on 127.0.0.1.
@Suite("The notification dispatcher", .serialized)
struct NotificationDispatcherTests {
    /// Tiny backoffs, so that retries are quick.
    private static let backoff: (initial: Duration, maximum: Duration) = (.milliseconds(10), .milliseconds(40))

    /// Runs `body` with an HTTP client and an outcome collector, then shuts the client down.
    private func withDispatcher(
        _ channels: [ResolvedChannel],
        queueLimit: Int = 200,
        _ body: (NotificationDispatcher, DeliveryOutcomes) async throws -> Void
    ) async throws {
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let outcomes = DeliveryOutcomes()
        let dispatcher = NotificationDispatcher(
            channels: channels,
            httpClient: client,
            backoff: Self.backoff,
            queueLimit: queueLimit,
            onFailure: { await outcomes.fail($0) },
            onDelivered: { await outcomes.deliver($0) }
        )
        do {
            try await body(dispatcher, outcomes)
        } catch {
            await dispatcher.shutdown(within: .zero)
            try await client.shutdown()
            throw error
        }
        await dispatcher.shutdown(within: .seconds(10))
        try await client.shutdown()
    }

    @Test func slackMessageArrivesFieldByField() async throws {
        let receiver = try await TestReceiver.start()
        let channel = NoticeFixtures.channel("team-slack", .slack, url: receiver.url("/services/T0/B0/token"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.rollback)
            await outcomes.wait(deliveries: 1)
            #expect(
                await outcomes.deliveries == [
                    DeliveryReport(
                        channel: "team-slack",
                        kind: .rolloutRollingBack,
                        app: "shop",
                        attempts: 1,
                        status: 200
                    )
                ]
            )
        }
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/services/T0/B0/token")
        #expect(request.headers["content-type"] == "application/json")
        let message = try #require(request.json)
        #expect(message["text"] as? String == "shop@prod: 2.0.0 rolled back to 1.0.0")
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        let header = try #require(blocks.first?["text"] as? [String: Any])
        #expect(header["text"] as? String == "shop@prod: 2.0.0 rolled back to 1.0.0")
        let fields = try #require(blocks[1]["fields"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        #expect(fields.count == 9)
        #expect(fields[0] == "*App*\nshop")
        #expect(fields[1] == "*Environment*\nprod")
        #expect(fields[2] == "*Version*\n1.0.0 → 2.0.0")
        #expect(fields[3] == "*Strategy*\ncanary")
        #expect(fields[4] == "*Started by*\nalice")
        #expect(fields[5] == "*Reason*\nsuccessRate 0.97 &lt; 0.99 for 2 windows")
        #expect(fields[6] == "*Step*\n3 of 7: weight 25%")
        #expect(fields[7] == "*Result*\nrolled back")
        #expect(fields[8] == "*Duration*\n4m12s")
        let checks = try #require((blocks[2]["text"] as? [String: Any])?["text"] as? String)
        #expect(checks.contains(":x: `successRate &gt;= 0.99`: 0.97 (threshold 0.99, 1200 samples)"))
        #expect(checks.contains(":white_check_mark: `p99 &lt;= 300ms`: 212ms (threshold 300ms, 1200 samples)"))
        let buttons = try #require(blocks.last?["elements"] as? [[String: Any]])
        #expect(
            buttons.map { $0["url"] as? String } == [
                "https://slipway.example.com/reports/shop%40prod/12",
                "https://slipway.example.com/apps/shop/rollouts/12",
            ]
        )
        #expect(request.body == SlackMessage.body(for: NoticeFixtures.rollback))
        await receiver.stop()
    }

    @Test func webhookPayloadArrivesFieldByField() async throws {
        let receiver = try await TestReceiver.start()
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hooks/slipway"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.rollback)
            await outcomes.wait(deliveries: 1)
        }
        let request = try #require(receiver.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/hooks/slipway")
        #expect(request.headers["content-type"] == "application/json")
        let payload = try #require(request.json)
        #expect(payload["event"] as? String == "rolloutRollingBack")
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["app"] as? String == "shop")
        #expect(payload["environment"] as? String == "prod")
        #expect(payload["rollout"] as? Int == 12)
        #expect(payload["from"] as? String == "1.0.0")
        #expect(payload["to"] as? String == "2.0.0")
        #expect(payload["by"] as? String == "alice")
        #expect(payload["durationMs"] as? Int == 252_500)
        #expect(payload["at"] as? String == "2025-03-01T12:00:00.250Z")
        let check = try #require((payload["checks"] as? [[String: Any]])?[1])
        #expect(check["check"] as? String == "successRate >= 0.99")
        #expect(check["value"] as? String == "0.97")
        #expect(check["threshold"] as? String == "0.99")
        #expect(check["samples"] as? Int == 1200)
        #expect(check["passed"] as? Bool == false)
        #expect((payload["details"] as? [String: Any])?["hook"] as? String == "migrate-db")
        await receiver.stop()
    }

    @Test func channelsFilterByKindAndSeverity() async throws {
        let receiver = try await TestReceiver.start()
        let starts = NoticeFixtures.channel("starts", url: receiver.url("/starts"), events: [.rolloutStarted])
        let serious = NoticeFixtures.channel("serious", url: receiver.url("/serious"), severity: .warning)
        let everything = NoticeFixtures.channel(
            "everything",
            url: receiver.url("/everything"),
            events: Set(EventKind.allCases)
        )
        try await withDispatcher([starts, serious, everything]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted, .info))
            dispatcher.post(NoticeFixtures.bare(.rolloutPaused, .warning))
            dispatcher.post(NoticeFixtures.bare(.rolloutRollingBack, .critical))
            dispatcher.post(NoticeFixtures.bare(.instanceStarted, .critical))
            dispatcher.post(NoticeFixtures.bare(.notificationFailed, .critical))
            await dispatcher.shutdown(within: .seconds(10))
            #expect(await outcomes.failures == [])
            #expect(await outcomes.deliveries.count == 7)
        }
        let received = receiver.requests.map { "\($0.path) \(($0.json?["event"] as? String) ?? "?")" }.sorted()
        #expect(
            received == [
                "/everything instanceStarted", "/everything rolloutPaused", "/everything rolloutRollingBack",
                "/everything rolloutStarted", "/serious rolloutPaused", "/serious rolloutRollingBack",
                "/starts rolloutStarted",
            ]
        )
        await receiver.stop()
    }

    @Test func serverErrorThenSuccessIsDeliveredOnARetry() async throws {
        let receiver = try await TestReceiver.start(script: [.status(500, "boom")])
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutPromoted))
            await outcomes.wait(deliveries: 1)
            #expect(await outcomes.deliveries.map(\.attempts) == [2])
            #expect(await outcomes.failures == [])
        }
        #expect(receiver.requests.count == 2)
        #expect(receiver.requests.map(\.body).allSatisfy { $0 == receiver.requests[0].body })
        await receiver.stop()
    }

    @Test func tooManyRequestsIsRetried() async throws {
        let receiver = try await TestReceiver.start(
            script: [.status(429, "slow down", headers: [("Retry-After", "0")]), .status(503)]
        )
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutPromoted))
            await outcomes.wait(deliveries: 1)
            #expect(await outcomes.deliveries.map(\.attempts) == [3])
        }
        await receiver.stop()
    }

    @Test func receiverDownFailsAfterEveryAttemptWithoutTheSecret() async throws {
        let port = try await TestReceiver.closedPort()
        let url = "http://127.0.0.1:\(port)/services/T0SECRET1/B0SECRET2/xoxSECRETtoken3abcdef"
        let channel = NoticeFixtures.channel("team-slack", .slack, url: url, timeout: .milliseconds(300), retries: 2)
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutRollingBack, .critical))
            await outcomes.wait(failures: 1)
            let failure = try #require(await outcomes.failures.first)
            #expect(failure.channel == "team-slack")
            #expect(failure.kind == .rolloutRollingBack)
            #expect(failure.app == "shop")
            #expect(failure.attempts == 3)
            #expect(failure.cause == .retriesExhausted)
            #expect(!failure.error.isEmpty)
            #expect(failure.error.hasPrefix("could not connect or send: "))
            for secret in ["SECRET", "services", "T0SECRET1", "B0SECRET2", "xoxSECRETtoken3abcdef", url] {
                #expect(!failure.error.contains(secret), "\(failure.error)")
            }
            #expect(await outcomes.deliveries == [])
        }
    }

    @Test func slowReceiverTimesOutOnEveryAttempt() async throws {
        let receiver = try await TestReceiver.start(fallback: .delayed(.seconds(3)))
        let channel = NoticeFixtures.channel(
            "audit",
            url: receiver.url("/hook"),
            timeout: .milliseconds(100),
            retries: 1
        )
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted))
            await outcomes.wait(failures: 1)
            let failure = try #require(await outcomes.failures.first)
            #expect(failure.attempts == 2)
            #expect(failure.cause == .retriesExhausted)
            #expect(failure.error == "timed out after 100ms")
        }
        #expect(receiver.requests.count == 2)
        await receiver.stop()
    }

    @Test func clientErrorIsNotRetried() async throws {
        let receiver = try await TestReceiver.start(script: [.status(400, "invalid_payload")])
        let channel = NoticeFixtures.channel("team-slack", .slack, url: receiver.url("/services/T/B/x"), retries: 4)
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted))
            await outcomes.wait(failures: 1)
            #expect(
                await outcomes.failures == [
                    DeliveryFailure(
                        channel: "team-slack",
                        kind: .rolloutStarted,
                        app: "shop",
                        attempts: 1,
                        error: "HTTP 400: invalid_payload",
                        cause: .refused
                    )
                ]
            )
        }
        #expect(receiver.requests.count == 1)
        await receiver.stop()
    }

    @Test func answersQuotingTheURLAreRedacted() async throws {
        let path = "/services/T0SECRET1/B0SECRET2/xoxSECRETtoken3abcdef"
        let receiver = try await TestReceiver.start()
        let url = receiver.url(path)
        let long = String(repeating: "x", count: Courier.answerBytes - 20) + url + url
        receiver.script([.status(404, "no channel for \(url)\n(path \(path))"), .status(410, long)])
        let channel = NoticeFixtures.channel("team-slack", .slack, url: url)
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted))
            dispatcher.post(NoticeFixtures.bare(.rolloutFinished))
            await outcomes.wait(failures: 2)
            let errors = await outcomes.failures.map(\.error)
            #expect(errors.first == "HTTP 404: no channel for http://127.0.0.1/… (path http://127.0.0.1/…)")
            #expect(errors.last?.hasPrefix("HTTP 410: xxx") == true)
            #expect(errors.last?.hasSuffix("…") == true)
            for error in errors {
                #expect(!error.contains("SECRET"), "\(error)")
                #expect(!error.contains("services"), "\(error)")
            }
        }
        await receiver.stop()
    }

    @Test func postReturnsWhileTheReceiverIsSlow() async throws {
        let receiver = try await TestReceiver.start(fallback: .held)
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted, title: "first"))
            await receiver.waitForRequests(1)
            // The first notice is held by the receiver: these posts must not wait for it.
            dispatcher.post(NoticeFixtures.bare(.rolloutPromoted, title: "second"))
            dispatcher.post(NoticeFixtures.bare(.rolloutFinished, title: "third"))
            #expect(receiver.answeredCount == 0)
            #expect(dispatcher.queuedCounts == ["audit": 2])
            #expect(await outcomes.deliveries == [])
            receiver.release()
            await outcomes.wait(deliveries: 3)
            #expect(await outcomes.deliveries.map(\.kind) == [.rolloutStarted, .rolloutPromoted, .rolloutFinished])
        }
        #expect(receiver.requests.compactMap { $0.json?["title"] as? String } == ["first", "second", "third"])
        await receiver.stop()
    }

    @Test func fullQueueDropsAndReports() async throws {
        let receiver = try await TestReceiver.start(fallback: .held)
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel], queueLimit: 2) { dispatcher, outcomes in
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted, title: "in flight"))
            await receiver.waitForRequests(1)
            for title in ["queued 1", "queued 2", "dropped 1", "dropped 2"] {
                dispatcher.post(NoticeFixtures.bare(.rolloutPromoted, title: title))
            }
            await outcomes.wait(failures: 2)
            let failures = await outcomes.failures
            #expect(failures.count == 2)
            #expect(failures.allSatisfy { $0.cause == .queueFull && $0.attempts == 0 && $0.channel == "audit" })
            #expect(failures.first?.error == "dropped: the channel's queue is full (2 notices waiting)")
            receiver.release()
            await outcomes.wait(deliveries: 3)
            #expect(await outcomes.deliveries.count == 3)
        }
        #expect(
            receiver.requests.compactMap { $0.json?["title"] as? String } == ["in flight", "queued 1", "queued 2"]
        )
        await receiver.stop()
    }

    @Test func shutdownDrainsTheQueues() async throws {
        let receiver = try await TestReceiver.start(fallback: .delayed(.milliseconds(20)))
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            for index in 1...5 {
                dispatcher.post(NoticeFixtures.bare(.rolloutStarted, title: "notice \(index)"))
            }
            await dispatcher.shutdown(within: .seconds(20))
            #expect(await outcomes.deliveries.count == 5)
            #expect(await outcomes.failures == [])
            dispatcher.post(NoticeFixtures.bare(.rolloutStarted, title: "too late"))
            #expect(dispatcher.queuedCounts == ["audit": 0])
        }
        #expect(receiver.requests.compactMap { $0.json?["title"] as? String } == (1...5).map { "notice \($0)" })
        await receiver.stop()
    }

    @Test func shutdownGivesUpAfterItsBound() async throws {
        let receiver = try await TestReceiver.start(fallback: .held)
        let channel = NoticeFixtures.channel("audit", url: receiver.url("/hook"))
        try await withDispatcher([channel]) { dispatcher, outcomes in
            for index in 1...3 {
                dispatcher.post(NoticeFixtures.bare(.rolloutStarted, title: "notice \(index)"))
            }
            await receiver.waitForRequests(1)
            await dispatcher.shutdown(within: .milliseconds(50))
            let failures = await outcomes.failures
            #expect(failures.map(\.cause) == [.shutDown, .shutDown, .shutDown])
            #expect(failures.map(\.attempts) == [1, 0, 0])
            #expect(await outcomes.deliveries == [])
        }
        await receiver.stop()
    }

    @Test func backoffDoublesUpToTheMaximum() {
        let courier = Courier(
            httpClient: HTTPClient.shared,
            initialBackoff: .milliseconds(10),
            maximumBackoff: .milliseconds(35),
            secretURLs: [],
            reports: AsyncStream<DeliveryOutcome>.makeStream().continuation
        )
        let delays = (1...5).map { courier.delay(afterAttempt: $0, retryAfter: nil) }
        #expect(
            delays == [.milliseconds(10), .milliseconds(20), .milliseconds(35), .milliseconds(35), .milliseconds(35)]
        )
        #expect(courier.delay(afterAttempt: 1, retryAfter: .seconds(5)) == .milliseconds(35))
        #expect(courier.delay(afterAttempt: 1, retryAfter: .milliseconds(30)) == .milliseconds(30))
    }
}
