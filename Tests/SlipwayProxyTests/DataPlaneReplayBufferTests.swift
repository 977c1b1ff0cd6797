import AsyncHTTPClient
import NIOCore
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// The recent successful GET requests the listener keeps for warm-up replay.
@Suite(.serialized) struct DataPlaneReplayBufferTests {
    @Test func recordsSuccessfulGetsNewestFirst() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let targets = ["/", "/headers", "/status?code=204", "/status?code=301", "/status?code=304"]
        try await withClient { client in
            for target in targets {
                _ = try await get(client, proxy.url + target)
            }
        }
        #expect(await proxy.listener.recentRequests(limit: 10) == targets.reversed())
        #expect(await proxy.listener.recentRequests(limit: 2) == ["/status?code=304", "/status?code=301"])
        #expect(await proxy.listener.recentRequests(limit: 0) == [])
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func skipsOtherMethodsFailuresAndProxyAnswers() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        // Bound and not listening for the whole test: every connection is refused, and no other test can take it.
        let (deadSocket, deadPort) = try LoopbackHTTP.refusingPort()
        defer { close(deadSocket) }
        try await withClient { client in
            try proxy.route([upstream.instance()])
            var upload = HTTPClientRequest(url: proxy.url + "/upload")
            upload.method = .POST
            upload.body = .bytes(ByteBuffer(string: "payload"))
            let uploaded = try await client.execute(upload, timeout: .seconds(10))
            _ = try await uploaded.body.collect(upTo: 1 << 20)
            #expect(uploaded.status == .ok)
            #expect(try await get(client, proxy.url + "/status?code=500").0 == 500)
            #expect(try await get(client, proxy.url + "/status?code=404").0 == 404)

            try proxy.route([])
            #expect(try await get(client, proxy.url + "/").0 == 503)

            try proxy.route([UpstreamInstance(id: "dead", version: "v1", host: "127.0.0.1", port: deadPort)])
            #expect(try await get(client, proxy.url + "/").0 == 502)

            try proxy.route([upstream.instance()])
            #expect(try await get(client, proxy.url + "/?last").0 == 200)
        }
        #expect(await proxy.listener.recentRequests(limit: 10) == ["/?last"])
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func keepsTheNewestUpToTheBufferSizeAcrossLoops() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start(settings: ProxySettings(replayBufferSize: 4))
        try proxy.route([upstream.instance()])
        try await withClient { client in
            // A new connection per request, so that both event loops record some.
            for number in 0..<10 {
                _ = try await get(client, proxy.url + "/?n=\(number)", headers: [("Connection", "close")])
            }
        }
        #expect(await proxy.listener.recentRequests(limit: 100) == ["/?n=9", "/?n=8", "/?n=7", "/?n=6"])
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func storesTheTargetAsReceivedAndNothingElse() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let long = "/?pad=" + String(repeating: "x", count: 2100)
        try await withClient { client in
            _ = try await get(
                client,
                proxy.url + "/headers?id=3&sort=name%20desc",
                headers: [("Cookie", "session=secret"), ("Authorization", "Bearer secret")]
            )
            #expect(try await get(client, proxy.url + long).0 == 200)
            #expect(try await get(client, proxy.url + "/?pad=" + String(repeating: "y", count: 2042)).0 == 200)
        }
        let recent = await proxy.listener.recentRequests(limit: 10)
        #expect(recent.count == 2)
        #expect(recent.last == "/headers?id=3&sort=name%20desc")
        #expect(recent.first?.utf8.count == 2048)
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func recordsNothingWhenTheBufferSizeIsZero() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start(settings: ProxySettings(replayBufferSize: 0))
        try proxy.route([upstream.instance()])
        try await withClient { client in
            for _ in 0..<3 {
                _ = try await get(client, proxy.url + "/")
            }
        }
        #expect(await proxy.listener.recentRequests(limit: 10) == [])
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func ringOverwritesTheOldestEntry() {
        var ring = RecentRequests(capacity: 3)
        #expect(ring.newest(5) == [])
        for number in 1...5 {
            ring.record("/\(number)", at: UInt64(number))
        }
        #expect(ring.newest(5).map(\.target) == ["/5", "/4", "/3"])
        #expect(ring.newest(2).map(\.target) == ["/5", "/4"])
        ring.record("/" + String(repeating: "z", count: RecentRequests.maximumTargetBytes), at: 6)
        #expect(ring.newest(1).map(\.target) == ["/5"])
        var off = RecentRequests(capacity: 0)
        off.record("/", at: 1)
        #expect(off.newest(1) == [])
    }
}
