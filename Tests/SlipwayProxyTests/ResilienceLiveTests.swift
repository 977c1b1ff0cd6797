import Foundation
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// Real servers behind the real proxy under steady load (≥ 200 requests per second on loopback): one instance
/// failing, one hanging, a whole version failing.
@Suite("Resilience: outlier ejection, retries and open circuits, live", .serialized)
struct ResilienceLiveTests {
    /// A fresh directory with an index page for `python3 -m http.server` to serve.
    private static func directory() throws -> String {
        let directory = try makeTemporaryDirectory("slipway-resilience")
        try "<h1>ok</h1>\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        return directory
    }

    private static func proxy(_ settings: ProxySettings, routing servers: UpstreamSet) async throws -> LiveProxy {
        let proxy = try await LiveProxy.start(settings: settings)
        try proxy.route(
            servers.enumerated().map { try $1.instance("shop-\($0 + 1)", version: "1.0.0") },
            version: "1.0.0"
        )
        return proxy
    }

    @Test(.tags(.heavy)) func anInstanceAnsweringFiveHundredIsEjectedWithinASecondAndComesBackOnceHealthy() async throws
    {
        try await HeavyLoad.exclusive {
            try await self.anInstanceAnsweringFiveHundredIsEjectedWithinASecondAndComesBackOnceHealthyAlone()
        }
    }

    private func anInstanceAnsweringFiveHundredIsEjectedWithinASecondAndComesBackOnceHealthyAlone() async throws {
        let directory = try Self.directory()
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/a.log"))
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/b.log"))
        try await servers.add(.flaky(flag: directory + "/failing", log: directory + "/c.log"))
        let settings = ProxySettings(
            outliers: OutlierSettings(intervalMs: 200, baseEjectionMs: 1000, maxEjectionMs: 2000, probePath: "/"),
            retries: RetrySettings(on: [.connectFailure, .reset, .serverError])
        )
        let proxy = try await Self.proxy(settings, routing: servers)
        let events = OutlierEventLog(proxy.listener)
        let load = LoadClient(port: proxy.port, rate: 300, threads: 6)
        await load.waitFor(300)

        let failingSince = wallNanoseconds()
        #expect(FileManager.default.createFile(atPath: directory + "/failing", contents: nil))
        let ejected = try await events.waitFor("shop-3 ejected") { $0.kind == .ejected && $0.instance == "shop-3" }
        let ejectedAfter = Double(ejected.timeNs - failingSince) / 1e9
        #expect(ejectedAfter < 1, "ejected \(ejectedAfter) s after it began failing")
        #expect(ejected.detail == "5 failed requests in a row")
        await load.waitFor(300)

        let healedSince = wallNanoseconds()
        try FileManager.default.removeItem(atPath: directory + "/failing")
        let returned = try await events.waitFor("shop-3 back") {
            $0.kind == .returned && $0.instance == "shop-3" && $0.timeNs > healedSince
        }
        let servedBefore = servers[2].requests(status: 200)
        await load.waitFor(600)
        await load.stop()
        try await proxy.stop()

        expectSteadyLoadWithoutFailures(load)
        #expect(servers[2].requests(status: 500) >= 5, "the failing instance answered 500")
        #expect(
            servers[2].requests(status: 200) > servedBefore + 50,
            "back in rotation \(Double(returned.timeNs - healedSince) / 1e9) s after it healed"
        )
    }

    @Test(.tags(.heavy)) func anInstanceThatHangsCostsNoRequest() async throws {
        try await HeavyLoad.exclusive { try await self.anInstanceThatHangsCostsNoRequestAlone() }
    }

    private func anInstanceThatHangsCostsNoRequestAlone() async throws {
        let directory = try Self.directory()
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/a.log"))
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/b.log"))
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/c.log"))
        let settings = ProxySettings(
            outliers: OutlierSettings(intervalMs: 200, baseEjectionMs: 1000, probePath: "/", probeTimeoutMs: 200),
            retries: RetrySettings(on: [.connectFailure, .reset, .timeout], perTryTimeoutMs: 250)
        )
        let proxy = try await Self.proxy(settings, routing: servers)
        let events = OutlierEventLog(proxy.listener)
        let load = LoadClient(port: proxy.port, rate: 300, threads: 8)
        await load.waitFor(300)
        kill(servers[2].pid, SIGSTOP)
        let ejected = try await events.waitFor("shop-3 ejected") { $0.kind == .ejected && $0.instance == "shop-3" }
        #expect(ejected.detail == "5 failed requests in a row")
        await load.waitFor(900)
        // Still out: its probes find it hanging.
        #expect(proxy.listener.table.instances[2].isEjected)
        await load.stop()
        let retried = await proxy.listener.sample().versions["1.0.0"]?.retries ?? 0
        try await proxy.stop()

        expectSteadyLoadWithoutFailures(load)
        #expect(retried >= 5, "the hung requests were sent again (\(retried) retries)")
    }

    @Test(.tags(.heavy)) func retriesStayWithinTheBudgetWhenEveryInstanceFails() async throws {
        try await HeavyLoad.exclusive { try await self.retriesStayWithinTheBudgetWhenEveryInstanceFailsAlone() }
    }

    private func retriesStayWithinTheBudgetWhenEveryInstanceFailsAlone() async throws {
        let directory = try Self.directory()
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        #expect(FileManager.default.createFile(atPath: directory + "/failing", contents: nil))
        try await servers.add(.flaky(flag: directory + "/failing", log: directory + "/a.log"))
        try await servers.add(.flaky(flag: directory + "/failing", log: directory + "/b.log"))
        try await servers.add(.flaky(flag: directory + "/failing", log: directory + "/c.log"))
        // No ejection here: only the budget stands between the failures and three times the load.
        let settings = ProxySettings(
            outliers: nil,
            retries: RetrySettings(attempts: 2, on: [.serverError], budgetPercent: 20, minimumPerSecond: 5)
        )
        let proxy = try await Self.proxy(settings, routing: servers)
        let load = LoadClient(port: proxy.port, rate: 250, threads: 5)
        await load.waitFor(1000)
        await load.stop()
        let sample = await proxy.listener.sample()
        try await proxy.stop()

        let all = load.all
        let requests = all.count
        let seconds = all.last!.at - all.first!.at
        let upstream = servers.map(\.requests).reduce(0, +)
        let retries = sample.versions["1.0.0"]?.retries ?? 0
        // Each request reached an instance once, and retries are at most 20% of the requests of any 10 s plus 5
        // a second over it: over the whole run, 20% of the requests and 5 a second for one window more.
        let budget = Double(requests) * 0.2 + 5 * (seconds + 10)
        #expect(upstream >= requests)
        #expect(upstream == requests + retries, "every retry is one more request upstream")
        #expect(Double(retries) <= budget, "\(retries) retries for \(requests) requests in \(seconds) s")
        #expect(Double(retries) >= Double(requests) * 0.15, "the budget was used: \(retries) retries")
        #expect((sample.versions["1.0.0"]?.retriesRefused ?? 0) > requests / 2)
    }

    @Test(.tags(.heavy)) func aVersionWhoseEveryInstanceFailsAnswersFast503s() async throws {
        try await HeavyLoad.exclusive { try await self.aVersionWhoseEveryInstanceFailsAnswersFast503sAlone() }
    }

    private func aVersionWhoseEveryInstanceFailsAnswersFast503sAlone() async throws {
        let directory = try Self.directory()
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        #expect(FileManager.default.createFile(atPath: directory + "/failing", contents: nil))
        try await servers.add(.flaky(flag: directory + "/failing", delayMs: 200, log: directory + "/a.log"))
        try await servers.add(.flaky(flag: directory + "/failing", delayMs: 200, log: directory + "/b.log"))
        try await servers.add(.flaky(flag: directory + "/failing", delayMs: 200, log: directory + "/c.log"))
        let settings = ProxySettings(
            outliers: OutlierSettings(intervalMs: 200, baseEjectionMs: 1000, maxEjectionMs: 1000, probePath: "/"),
            retries: RetrySettings(on: [.serverError])
        )
        let proxy = try await Self.proxy(settings, routing: servers)
        let events = OutlierEventLog(proxy.listener)
        let load = LoadClient(port: proxy.port, rate: 250, threads: 10)
        let opened = try await events.waitFor("the circuit opens") { $0.kind == .circuitOpened }
        #expect(opened.version == "1.0.0")
        let openAt = Date()
        let upstreamAtOpen = servers.map(\.requests).reduce(0, +)
        await load.waitFor(750)
        let sinceOpen = load.all.filter { $0.at > openAt.timeIntervalSince(load.began) + 0.3 }
        let upstreamWhileOpen = servers.map(\.requests).reduce(0, +) - upstreamAtOpen
        // The 503s of an open circuit keep the client's connection.
        let client = try RawConnection(port: proxy.port)
        var answers: [String] = []
        for _ in 0..<2 {
            client.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
            answers.append(client.readText(until: "is failing\n"))
        }
        #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 503") && $0.contains("Retry-After: 1") }, "\(answers)")

        // The instances heal: a probe finds one and the circuit closes.
        try FileManager.default.removeItem(atPath: directory + "/failing")
        _ = try await events.waitFor("the circuit closes") { $0.kind == .circuitClosed }
        await load.waitFor(200)
        await load.stop()
        try await proxy.stop()

        #expect(sinceOpen.count > 500)
        let fast = sinceOpen.filter { $0.status == 503 && $0.latency < 0.05 }
        #expect(
            Double(fast.count) >= Double(sinceOpen.count) * 0.95,
            "\(fast.count) of \(sinceOpen.count) answered 503 within 50 ms while the circuit was open"
        )
        // Only the probes (and requests already on their way) reached the instances.
        #expect(upstreamWhileOpen < 60, "\(upstreamWhileOpen) requests reached a failing instance")
        let recovered = load.all.suffix(100)
        #expect(recovered.filter { $0.status == 200 }.count >= 95)
    }
}
