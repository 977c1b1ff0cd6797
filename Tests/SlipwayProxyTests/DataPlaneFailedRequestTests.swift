import AsyncHTTPClient
import NIOCore
import SlipwayCore
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// The requests answered 5xx the listener keeps for rollout reports: what they record, and what they never do.
@Suite(.serialized) struct DataPlaneFailedRequestTests {
    @Test func keepsTheAppsAndTheProxysFailuresWithoutQueryBodyOrHeaders() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        // Bound and not listening for the whole test: every connection is refused, and no other test can take it.
        let (deadSocket, deadPort) = try LoopbackHTTP.refusingPort()
        defer { close(deadSocket) }
        let before = FailedRequest.now()
        try await withClient { client in
            try proxy.route([upstream.instance()])
            #expect(try await get(client, proxy.url + "/status?code=200").0 == 200)
            #expect(try await get(client, proxy.url + "/status?code=404").0 == 404)
            let (status, _) = try await get(
                client,
                proxy.url + "/status?code=503&token=secret",
                headers: [("X-Request-Id", "req-42"), ("Authorization", "Bearer secret")]
            )
            #expect(status == 503)
            try proxy.route([UpstreamInstance(id: "dead", version: "v1", host: "127.0.0.1", port: deadPort)])
            #expect(try await get(client, proxy.url + "/gone").0 == 502)
        }
        let failures = await proxy.listener.failedRequests(after: before, limit: 10)
        #expect(failures.map(\.status) == [503, 502])
        let app = try #require(failures.first)
        #expect(app.method == "GET" && app.path == "/status" && app.requestID == "req-42" && app.proxyError == nil)
        #expect(app.instance == "a" && app.version == "v1" && app.timeNs > before)
        let proxyMade = try #require(failures.last)
        #expect(proxyMade.instance == "dead" && proxyMade.path == "/gone")
        #expect(proxyMade.proxyError?.hasPrefix("bad gateway: cannot connect to instance dead") == true)
        // The proxy gave the request its own id.
        #expect(proxyMade.requestID.count >= 16)
        // A cursor returns only what came after it, and a limit keeps the newest.
        #expect(await proxy.listener.failedRequests(after: app.timeNs, limit: 10).map(\.status) == [502])
        #expect(await proxy.listener.failedRequests(after: before, limit: 1).map(\.status) == [502])
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func aRingKeepsTheNewestAndPathsAreCutSafely() {
        var ring = FailedRequests(capacity: 3)
        for number in 1...5 {
            ring.record(
                FailedRequest(
                    timeNs: Int64(number),
                    version: "v",
                    instance: "i",
                    method: "GET",
                    path: "/\(number)",
                    status: 500,
                    latencyMs: 1,
                    requestID: "r\(number)"
                )
            )
        }
        #expect(ring.since(0).map(\.path) == ["/3", "/4", "/5"])
        #expect(ring.since(4).map(\.path) == ["/5"])
        #expect(FailedRequest.path(of: "/a/b?c=d#e") == "/a/b")
        #expect(FailedRequest.path(of: "/x#frag") == "/x")
        let long = "/" + String(repeating: "é", count: 400)
        let cut = FailedRequest.path(of: long)
        #expect(cut.utf8.count <= FailedRequest.maximumPathBytes && cut.hasPrefix("/é"))
    }
}
