import AsyncHTTPClient
import NIOPosix
import SlipwayConfig
import SlipwayTestSupport
import Testing

@testable import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// Warm-ups against a real HTTP server on 127.0.0.1.
@Suite(.serialized) struct WarmUpRunnerTests {
    @Test func sendsSyntheticRequestsRoundRobinThenTheReplayInOrder() async throws {
        let server = try await WarmUpTestServer.start()
        let spec = WarmUpSpec(paths: ["/a", "/b"], count: 5, concurrency: 1, replay: 2)
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: ["/r?1", "/r?2", "/r?3"])
        }
        #expect(server.targets == ["/a", "/b", "/a", "/b", "/a", "/r?1", "/r?2"])
        #expect(report.synthetic == 5)
        #expect(report.replayed == 2)
        #expect(report.failures == 0)
        #expect(report.abandoned == 0)
        #expect(!report.timedOut)
        #expect(report.responsesByClass == [2: 7])
        #expect(report.latencyP50 != nil)
        #expect(report.latencyP50! <= report.latencyP99!)
        #expect(report.latencyP99! <= report.latencyMax!)
        try await server.stop()
    }

    @Test func keepsAtMostTheConcurrencyInFlight() async throws {
        let server = try await WarmUpTestServer.start()
        let spec = WarmUpSpec(paths: ["/slow?ms=40"], count: 24, concurrency: 3)
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: [])
        }
        #expect(report.synthetic == 24)
        #expect(server.maxInProgress == 3)
        #expect(report.took >= .milliseconds(8 * 40))
        try await server.stop()
    }

    @Test func stopsAtTheTimeoutAbandoningWhatIsInFlight() async throws {
        let server = try await WarmUpTestServer.start()
        let spec = WarmUpSpec(paths: ["/hang"], count: 10, concurrency: 2, timeout: .milliseconds(300))
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: ["/never"])
        }
        #expect(report.timedOut)
        #expect(report.abandoned == 2)
        #expect(report.synthetic == 0)
        #expect(report.failures == 0)
        #expect(report.took >= .milliseconds(300))
        #expect(report.took < .seconds(2))
        #expect(server.targets == ["/hang", "/hang"])
        #expect(report.fields["timedOut"] == .bool(true))
        try await server.stop()
    }

    @Test func stopsSendingAtTheTimeout() async throws {
        let server = try await WarmUpTestServer.start()
        let spec = WarmUpSpec(paths: ["/slow?ms=100"], count: 100, concurrency: 1, timeout: .milliseconds(350))
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: [])
        }
        #expect(report.timedOut)
        #expect((1...3).contains(report.synthetic))
        #expect(report.took < .seconds(1))
        try await server.stop()
    }

    @Test func countsFailuresWithoutThrowing() async throws {
        let server = try await WarmUpTestServer.start()
        let errors = await withRunner { runner in
            await runner.run(
                host: "127.0.0.1",
                port: server.port,
                spec: WarmUpSpec(paths: ["/status?code=500", "/"], count: 6, concurrency: 2),
                replay: []
            )
        }
        #expect(errors.failures == 3)
        #expect(errors.responsesByClass == [2: 3, 5: 3])
        #expect(!errors.timedOut)
        try await server.stop()

        // Bound and not listening for the whole test: every connection is refused, and no other test can take it.
        let (deadSocket, deadPort) = try LoopbackHTTP.refusingPort()
        defer { close(deadSocket) }
        let refused = await withRunner { runner in
            await runner.run(
                host: "127.0.0.1",
                port: deadPort,
                spec: WarmUpSpec(paths: ["/"], count: 4, concurrency: 2, replay: 1),
                replay: ["/r"]
            )
        }
        #expect(refused.failures == 5)
        #expect(refused.synthetic == 4)
        #expect(refused.replayed == 1)
        #expect(refused.responsesByClass.isEmpty)
        #expect(refused.latencyP50 == nil)
        #expect(!refused.timedOut)
    }

    @Test func sendsForADurationInsteadOfACount() async throws {
        let server = try await WarmUpTestServer.start()
        let spec = WarmUpSpec(paths: ["/slow?ms=20"], count: 1, duration: .milliseconds(250), concurrency: 2)
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: [])
        }
        #expect(report.took >= .milliseconds(250))
        #expect(report.synthetic > 2)
        #expect(report.synthetic == server.targets.count)
        #expect(!report.timedOut)
        try await server.stop()
    }

    @Test func showsTheColdStartTheWarmUpAbsorbed() async throws {
        let server = try await WarmUpTestServer.start(slowFirst: 3, slowFirstDelay: .milliseconds(150))
        let spec = WarmUpSpec(paths: ["/"], count: 30, concurrency: 1)
        let report = await withRunner { runner in
            await runner.run(host: "127.0.0.1", port: server.port, spec: spec, replay: [])
        }
        let early = try #require(report.earlyMeanLatency)
        let late = try #require(report.lateMeanLatency)
        #expect(early >= .milliseconds(150))
        #expect(late < .milliseconds(100))
        #expect(report.latencyMax! >= .milliseconds(150))
        #expect(report.fields["earlyMeanMs"]!.intValue! >= 150)
        try await server.stop()
    }

    /// Runs `body` with a runner whose client allows the concurrency the tests use and fails a refused connection
    /// at once.
    private func withRunner<T: Sendable>(_ body: (WarmUpRunner) async -> T) async -> T {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let result = await body(WarmUpRunner(client: client))
        try? await client.shutdown()
        return result
    }
}
