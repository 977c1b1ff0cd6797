import Foundation
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// Traffic mirroring through the real proxy, under steady load on loopback: real servers on both sides, a candidate
/// broken (and slow) on one path that only copies reach.
@Suite("Mirroring, live", .serialized)
struct MirrorLiveTests {
    /// Users' p99 with copies on may exceed it without by the 1 ms budget, plus the spread the phases without copies
    /// show among themselves (what else the machine does), plus this.
    static let p99Margin = 0.001

    @Test(.tags(.heavy)) func copiesReachTheCandidateAndItsFailuresShowWithoutReachingOrSlowingAnyUser() async throws {
        try await HeavyLoad.exclusive {
            try await self.copiesReachTheCandidateAndItsFailuresShowWithoutReachingOrSlowingAnyUserAlone()
        }
    }

    private func copiesReachTheCandidateAndItsFailuresShowWithoutReachingOrSlowingAnyUserAlone() async throws {
        let directory = try makeTemporaryDirectory("slipway-mirror")
        try "<h1>home</h1>\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        try "<h1>cart</h1>\n".write(toFile: directory + "/cart.html", atomically: true, encoding: .utf8)
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/a.log"))
        try await servers.add(.pythonHTTPServer(directory: directory, log: directory + "/b.log"))
        // The candidate answers 500 on /cart, 30 ms late: a copy that takes longer than the user's request.
        try await servers.add(
            .flaky(flag: directory + "/never", delayMs: 30, failPath: "/cart", log: directory + "/candidate.log")
        )
        let proxy = try await LiveProxy.start()
        defer { Task { try? await proxy.stop() } }
        let stable = try [servers[0].instance("shop-1", version: "1.0"), servers[1].instance("shop-2", version: "1.0")]
        let candidate = try [servers[2].instance("shop-3", version: "2.0")]
        func route(mirror: Bool) throws {
            proxy.listener.update(
                try RouteTable(
                    versions: [
                        VersionRoute(version: "1.0", weight: 10_000, instances: stable),
                        VersionRoute(version: "2.0", weight: 0, instances: candidate),
                    ],
                    mirror: mirror ? TrafficMirror(version: "2.0", share: 10_000) : nil
                )
            )
        }
        try route(mirror: false)
        let home = LoadClient(port: proxy.port, rate: 150, threads: 3, path: "/")
        let cart = LoadClient(port: proxy.port, rate: 150, threads: 3, path: "/cart.html")
        // Alternate phases without and with copies, so that whatever else the machine does falls on both.
        var phases: [(mirror: Bool, from: Double, to: Double)] = []
        // Without copies, the candidate gets the same requests straight from clients, so that its server loads the
        // machine alike in both kinds of phase and the comparison is of the proxy's copying alone.
        for mirror in [false, true, false, true, false, true] {
            try route(mirror: mirror)
            let direct =
                mirror
                ? []
                : ["/", "/cart.html"].map { LoadClient(port: servers[2].port, rate: 150, threads: 3, path: $0) }
            let from = Date().timeIntervalSince(home.began)
            await home.waitFor(250)
            phases.append((mirror, from, Date().timeIntervalSince(home.began)))
            for client in direct { await client.stop() }
        }
        await home.stop()
        await cart.stop()
        // Every copy has answered (30 ms) once the load is over: both sides count the same requests.
        try await waitUntil("the last copies answered", timeout: .seconds(5)) {
            await proxy.listener.sample().mirror.shadows["2.0"]?.inFlight == 0
        }
        let sample = await proxy.listener.sample()

        let users = home.all + cart.all
        let seconds = (home.all.last?.at ?? 0) - (home.all.first?.at ?? 0)
        #expect(Double(users.count) / max(seconds, 0.001) >= 200, "\(users.count) requests in \(seconds) s")
        #expect(home.failed.isEmpty && cart.failed.isEmpty, "\(home.failed.count + cart.failed.count) user errors")
        #expect(users.allSatisfy { $0.status != 200 || $0.version == nil || $0.version == "1.0" })

        // The copies and the originals, side by side: the same requests, the candidate failing those on /cart.
        let shadow = try #require(sample.mirror.shadows["2.0"])
        let original = try #require(sample.mirror.originals["1.0"])
        #expect(shadow.requests > 500)
        #expect(shadow.requests + sample.mirror.dropped == original.requests)
        #expect(original.responses[5] == 0)
        let failedShare = Double(shadow.responses[5]) / Double(max(1, shadow.requests))
        #expect(failedShare > 0.35 && failedShare < 0.65, "\(shadow.responses[5]) of \(shadow.requests) copies 5xx")
        #expect(sample.versions["2.0"]?.requests ?? 0 == 0, "copies are not the candidate's user traffic")
        let log = try String(contentsOfFile: directory + "/candidate.log", encoding: .utf8)
        let copies = log.split(separator: "\n").filter { $0.hasSuffix(" mirror") }
        #expect(copies.count >= shadow.requests - 10, "\(copies.count) copies logged, \(shadow.requests) recorded")

        // Users' p99 with and without copies, from the client's side, phase by phase. The phases without copies
        // differ among themselves by what else the machine does: that spread is the margin of the comparison.
        func p99(_ phase: (mirror: Bool, from: Double, to: Double)) -> Double {
            let latencies = users.filter { $0.at >= phase.from && $0.at < phase.to }.map(\.latency).sorted()
            return latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let without = phases.filter { !$0.mirror }.map(p99)
        let with = phases.filter(\.mirror).map(p99)
        let noise = (without.max() ?? 0) - (without.min() ?? 0)
        let added = median(with) - median(without)
        func milliseconds(_ values: [Double]) -> String {
            values.map { String(format: "%.2f", $0 * 1000) }.joined(separator: ", ")
        }
        print(
            "mirroring: users' p99 per phase without copies [\(milliseconds(without))] ms, with every request copied "
                + "[\(milliseconds(with))] ms: \(String(format: "%+.2f", added * 1000)) ms (spread without copies "
                + "\(String(format: "%.2f", noise * 1000)) ms; \(shadow.requests) copies, \(sample.mirror.dropped) dropped)"
        )
        #expect(added <= 0.001 + noise + Self.p99Margin, "p99 \(median(without) * 1000) ms → \(median(with) * 1000) ms")
    }

    @Test func requestsWithBodiesOverTheBoundAndUnlistedMethodsAreNotCopied() async throws {
        let upstream = try await FixtureUpstream.start()
        let candidate = try await FixtureUpstream.start()
        let proxy = try await LiveProxy.start()
        defer {
            Task {
                try? await proxy.stop()
                try? await upstream.stop()
                try? await candidate.stop()
            }
        }
        proxy.listener.update(
            try RouteTable(
                versions: [
                    VersionRoute(version: "1.0", weight: 10_000, instances: [upstream.instance("a", version: "1.0")]),
                    VersionRoute(version: "2.0", weight: 0, instances: [candidate.instance("b", version: "2.0")]),
                ],
                mirror: TrafficMirror(version: "2.0", share: 10_000, methods: ["GET", "POST"], maxBodyBytes: 16)
            )
        )
        let connection = try RawConnection(port: proxy.port)
        for (method, body) in [("POST", "small"), ("POST", String(repeating: "x", count: 17)), ("PUT", "small")] {
            connection.send(
                "\(method) /status?code=201 HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            _ = connection.readText(until: "status 201\n")
        }
        connection.send(
            "POST /status?code=201 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nsmall\r\n0\r\n\r\n"
        )
        _ = connection.readText(until: "status 201\n")
        // The small POST and the small chunked POST were copied, bodies whole: the candidate read two requests and
        // answered both (a copy cut short would hang it, a copy too long would be a third request).
        try await waitUntil("the copies answered", timeout: .seconds(5)) {
            await proxy.listener.sample().mirror.shadows["2.0"]?.responses[2] == 2
        }
        try await Task.sleep(for: .milliseconds(200))
        let sample = await proxy.listener.sample()
        #expect(candidate.requestCount == 2)
        #expect(sample.mirror.shadows["2.0"]?.requests == 2)
        #expect(sample.mirror.originals["1.0"]?.requests == 2)
        #expect(upstream.requestCount == 4)
    }
}
