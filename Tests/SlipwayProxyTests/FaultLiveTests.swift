import AsyncHTTPClient
import Foundation
import NIOCore
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// Faults injected by the real proxy in front of `python3 -m http.server`, measured by a client on loopback.
@Suite("Faults, live", .serialized)
struct FaultLiveTests {
    /// A listener in front of two `python3 -m http.server` instances of version 1.0 serving `/index.html`,
    /// `/api/items.json` and a 256 KiB `/big.bin`.
    private func withShop(_ body: (LiveProxy) async throws -> Void) async throws {
        let directory = try makeTemporaryDirectory("slipway-faults")
        try "<h1>home</h1>\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/api", withIntermediateDirectories: true)
        try "[1,2,3]\n".write(toFile: directory + "/api/items.json", atomically: true, encoding: .utf8)
        try Data((0..<(256 * 1024)).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: directory + "/big.bin"))
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/a.log"))
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/b.log"))
        let proxy = try await LiveProxy.start()
        do {
            try proxy.route(
                [servers[0].instance("shop-1", version: "1.0"), servers[1].instance("shop-2", version: "1.0")],
                version: "1.0"
            )
            try await body(proxy)
        } catch {
            try? await proxy.stop()
            throw error
        }
        try await proxy.stop()
    }

    private static func fault(
        _ kind: FaultSpec.Kind,
        id: String = "f1",
        share: Int = 10_000,
        for duration: Duration = .seconds(60),
        configure: (inout FaultSpec) -> Void = { _ in }
    ) -> FaultSpec {
        var spec = FaultSpec(
            id: id,
            kind: kind,
            share: share,
            expiresAtMs: Int64(Date().timeIntervalSince1970 * 1000) + Int64(duration.milliseconds)
        )
        configure(&spec)
        return spec
    }

    /// `count` GETs of `path`, `concurrency` at a time: each status and the aborts' fault header.
    private static func statuses(
        _ client: HTTPClient,
        _ url: String,
        count: Int,
        concurrency: Int = 8
    ) async throws -> [(status: Int, fault: String?)] {
        try await withThrowingTaskGroup(of: [(Int, String?)].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var seen: [(Int, String?)] = []
                    for _ in stride(from: worker, to: count, by: concurrency) {
                        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        seen.append((Int(response.status.code), response.headers.first(name: "x-slipway-fault")))
                    }
                    return seen
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.map { (status: $0.0, fault: $0.1) }
        }
    }

    @Test(.tags(.heavy)) func anAbortOfTenPercentAbortsTenPercentAndCountsThemApartFromTheApp() async throws {
        try await HeavyLoad.exclusive {
            try await withShop { proxy in
                try proxy.listener.setFaults(
                    [Self.fault(.abort, share: 1_000) { $0.status = 503 }],
                    wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
                )
                let seen = try await withClient { client in
                    try await Self.statuses(client, proxy.url + "/index.html", count: 5_000)
                }
                let aborted = seen.filter { $0.status == 503 }
                #expect(seen.count == 5_000)
                #expect((400...600).contains(aborted.count), "\(aborted.count) of 5000 aborted, expected 10% ± 2%")
                #expect(aborted.allSatisfy { $0.fault == "abort" })
                #expect(seen.allSatisfy { $0.status == 200 || $0.status == 503 })
                let sample = await proxy.listener.sample()
                let version = try #require(sample.versions["1.0"])
                // Counted apart: the app's own requests are those that reached it, all answered 200.
                #expect(version.injected.aborted == aborted.count)
                #expect(version.requests == 5_000 - aborted.count)
                #expect(version.responses(ofClass: 5) == 0)
                #expect(proxy.listener.faults.first?.affected == aborted.count)
            }
        }
    }

    @Test func aDelayOnOnePathHoldsOnlyThatPathAndStaysOutOfTheAppsLatency() async throws {
        try await withShop { proxy in
            try proxy.listener.setFaults(
                [
                    Self.fault(.delay) {
                        $0.delayMs = 200
                        $0.pathPrefix = "/api/"
                    }
                ],
                wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
            )
            try await withClient { client in
                let clock = ContinuousClock()
                var api: [Duration] = []
                var home: [Duration] = []
                for _ in 0..<10 {
                    let started = clock.now
                    let (status, body) = try await get(client, proxy.url + "/api/items.json")
                    api.append(clock.now - started)
                    #expect(status == 200 && body == "[1,2,3]\n")
                    let homeStarted = clock.now
                    #expect(try await get(client, proxy.url + "/index.html").0 == 200)
                    home.append(clock.now - homeStarted)
                }
                // Never sooner than the delay; about the delay as a rule (one request may wait longer on a busy
                // machine).
                #expect(api.allSatisfy { $0 >= .milliseconds(200) } && api.sorted()[5] < .milliseconds(400), "\(api)")
                #expect(home.sorted()[5] < .milliseconds(100), "\(home)")
            }
            let sample = await proxy.listener.sample()
            let version = try #require(sample.versions["1.0"])
            #expect(version.injected.delayed == 10)
            #expect(version.requests == 20)
            // The app answered every request within milliseconds: the injected delay is not its latency.
            #expect(Double(version.latency.valueAtPercentile(100)) < 150_000, "max \(version.latency.max) µs")
        }
    }

    @Test func aFaultExpiresOnTimeAndRemovingFaultsTakesEffectAtTheNextRequest() async throws {
        try await withShop { proxy in
            let clock = ContinuousClock()
            let added = clock.now
            try proxy.listener.setFaults(
                [Self.fault(.abort, for: .milliseconds(1_500)) { $0.status = 500 }],
                wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
            )
            try await withClient { client in
                #expect(try await get(client, proxy.url + "/index.html").0 == 500)
                var firstServed: Duration?
                for _ in 0..<300 where firstServed == nil {
                    if try await get(client, proxy.url + "/index.html").0 == 200 { firstServed = clock.now - added }
                    try await Task.sleep(for: .milliseconds(10))
                }
                let after = try #require(firstServed)
                #expect(after >= .milliseconds(1_400) && after < .milliseconds(1_900), "served again after \(after)")
                #expect(proxy.listener.faults.first?.active == false)

                try proxy.listener.setFaults(
                    [Self.fault(.abort) { $0.status = 503 }],
                    wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
                )
                #expect(try await get(client, proxy.url + "/index.html").0 == 503)
                try proxy.listener.setFaults([], wallNowMs: 0)
                #expect(try await get(client, proxy.url + "/index.html").0 == 200)
            }
        }
    }

    @Test func aFaultAffectsNoMoreThanItsBoundAndOnlyTheRequestsItMatches() async throws {
        try await withShop { proxy in
            try proxy.listener.setFaults(
                [
                    Self.fault(.abort, id: "capped") {
                        $0.status = 429
                        $0.maxRequests = 5
                    },
                    Self.fault(.abort, id: "beta") {
                        $0.status = 418
                        $0.header = .init(name: "X-Beta", value: "yes")
                        $0.method = "HEAD"
                    },
                ],
                wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
            )
            try await withClient { client in
                let seen = try await Self.statuses(client, proxy.url + "/index.html", count: 20, concurrency: 1)
                #expect(seen.map(\.status) == Array(repeating: 429, count: 5) + Array(repeating: 200, count: 15))
                var head = HTTPClientRequest(url: proxy.url + "/index.html")
                head.method = .HEAD
                head.headers.add(name: "x-beta", value: "yes")
                #expect(try await client.execute(head, timeout: .seconds(10)).status.code == 418)
                head.headers.replaceOrAdd(name: "x-beta", value: "no")
                #expect(try await client.execute(head, timeout: .seconds(10)).status.code == 200)
                #expect(try await get(client, proxy.url + "/index.html", headers: [("X-Beta", "yes")]).0 == 200)
            }
            let statuses = proxy.listener.faults
            #expect(statuses.map(\.affected) == [5, 1])
            #expect(statuses.map(\.active) == [false, true])
        }
    }

    @Test func aFaultAboutAnotherVersionLeavesThisOneAlone() async throws {
        try await withShop { proxy in
            try proxy.listener.setFaults(
                [
                    Self.fault(.abort) {
                        $0.status = 503
                        $0.version = "2.0"
                    }
                ],
                wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
            )
            let status = try await withClient { client in try await get(client, proxy.url + "/index.html").0 }
            #expect(status == 200)
        }
    }

    @Test func aResetEndsTheConnectionWithARST() async throws {
        try await withShop { proxy in
            try proxy.listener.setFaults(
                [Self.fault(.reset)],
                wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
            )
            #expect {
                try LoopbackHTTP.get(port: proxy.port, path: "/index.html", timeout: .seconds(5))
            } throws: { error in
                "\(error)".contains("errno \(ECONNRESET)")
            }
            let sample = await proxy.listener.sample()
            let version = try #require(sample.versions["1.0"])
            #expect(version.injected.reset == 1)
            #expect(version.requests == 0)
        }
    }

    @Test func aBandwidthLimitPacesTheBodyAndDeliversItWhole() async throws {
        try await withShop { proxy in
            try await withClient { client in
                let clock = ContinuousClock()
                var started = clock.now
                let (fast, fastBody) = try await get(client, proxy.url + "/big.bin")
                let unlimited = clock.now - started
                #expect(fast == 200 && fastBody.utf8.count > 0)

                try proxy.listener.setFaults(
                    [Self.fault(.bandwidth) { $0.bytesPerSecond = 64 * 1024 }],
                    wallNowMs: Int64(Date().timeIntervalSince1970 * 1000)
                )
                started = clock.now
                let response = try await client.execute(
                    HTTPClientRequest(url: proxy.url + "/big.bin"),
                    timeout: .seconds(20)
                )
                let body = try await response.body.collect(upTo: 1 << 20)
                let limited = clock.now - started
                #expect(response.status.code == 200)
                let expected: [UInt8] = (0..<(256 * 1024)).map { UInt8($0 % 251) }
                #expect(Array(body.readableBytesView) == expected)
                // 256 KiB at 64 KiB/s: four seconds, give or take a tick and the first burst; never sooner. The
                // upper bound leaves room for a busy machine. On a busy machine the unpaced transfer may take a second
                // or two as well; the pacing still adds at least the difference to four seconds.
                #expect(limited >= .milliseconds(3_400) && limited < .milliseconds(8_000), "took \(limited)")
                #expect(limited - unlimited >= .milliseconds(1_500), "unlimited took \(unlimited), limited \(limited)")
            }
            let sample = await proxy.listener.sample()
            #expect(sample.versions["1.0"]?.injected.throttled == 1)
        }
    }
}
