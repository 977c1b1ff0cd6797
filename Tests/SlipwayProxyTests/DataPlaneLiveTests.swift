import AsyncHTTPClient
import Foundation
import NIOCore
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayProxy

/// The proxy on real sockets, in front of real HTTP servers.
@Suite(.serialized) struct DataPlaneLiveTests {
    @Test func forwardsAndAddsForwardingHeaders() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let (status, body) = try await withClient { client in
            try await get(
                client,
                proxy.url + "/headers",
                headers: [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
            )
        }
        let headers = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(status == 200)
        #expect(headers["x-forwarded-for"] as? [String] == ["127.0.0.1"])
        #expect(headers["x-forwarded-proto"] as? [String] == ["http"])
        let requestID = try #require((headers["x-request-id"] as? [String])?.first)
        #expect(requestID.count == 16)
        #expect(headers["traceparent"] as? [String] == ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
        #expect(headers["connection"] == nil)
        #expect(headers["_version"] as? String == "HTTP/1.1")
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func splitsTrafficByVersionWeightAndCountsIt() async throws {
        let stable = try await FixtureUpstream.start(name: "stable")
        let canary = try await FixtureUpstream.start(name: "canary")
        let proxy = try await LiveProxy.start()
        proxy.listener.update(
            try RouteTable(versions: [
                VersionRoute(version: "2.0", weight: 2_500, instances: [canary.instance(version: "2.0")]),
                VersionRoute(version: "1.0", weight: 7_500, instances: [stable.instance(version: "1.0")]),
            ])
        )
        let names = try await withClient { client in
            var names: [String] = []
            for _ in 0..<400 { names.append(try await get(client, proxy.url + "/").1) }
            return names
        }
        let canaryShare = Double(names.filter { $0 == "canary\n" }.count) / 400
        #expect(abs(canaryShare - 0.25) < 0.08, "canary share \(canaryShare)")
        #expect(names.allSatisfy { $0 == "canary\n" || $0 == "stable\n" })
        let sample = await proxy.listener.sample()
        let canaryTraffic = try #require(sample.versions["2.0"])
        let stableTraffic = try #require(sample.versions["1.0"])
        #expect(canaryTraffic.requests + stableTraffic.requests == 400)
        #expect(canaryTraffic.responses[2] == canaryTraffic.requests)
        #expect(canaryTraffic.inFlight == 0)
        #expect(sample.instances["canary"]?.traffic.requests == canaryTraffic.requests)
        #expect(canaryTraffic.window(since: .empty).latency(quantile: 0.99) != nil)
        try await proxy.stop()
        try await stable.stop()
        try await canary.stop()
    }

    @Test func answers503WithoutInstances502WhenUnreachableAnd504WhenSlow() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start(settings: ProxySettings(responseTimeout: .milliseconds(300)))
        // Bound and not listening for the whole test: every connection is refused, and no other test can take it.
        let (deadSocket, deadPort) = try LoopbackHTTP.refusingPort()
        defer { close(deadSocket) }
        try await withClient { client in
            try proxy.route([])
            let (noneStatus, noneBody) = try await get(client, proxy.url + "/")
            #expect(noneStatus == 503)
            #expect(noneBody.contains("no healthy instance"))

            try proxy.route([UpstreamInstance(id: "dead", version: "v1", host: "127.0.0.1", port: deadPort)])
            let (deadStatus, deadBody) = try await get(client, proxy.url + "/")
            #expect(deadStatus == 502)
            #expect(deadBody.contains("cannot connect to instance dead"))

            try proxy.route([upstream.instance()])
            let started = ContinuousClock.now
            let (slowStatus, _) = try await get(client, proxy.url + "/hang")
            #expect(slowStatus == 504)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            // The app's own 503 is not the proxy's.
            let (appStatus, _) = try await get(client, proxy.url + "/status?code=503")
            #expect(appStatus == 503)
        }
        let sample = await proxy.listener.sample()
        #expect(sample.unrouted.proxyGenerated[503] == 1)
        #expect(sample.versions["v1"]?.proxyGenerated[502] == 1)
        #expect(sample.versions["v1"]?.proxyGenerated[504] == 1)
        #expect(sample.versions["v1"]?.proxyGenerated[503] ?? 0 == 0)
        #expect(sample.versions["v1"]?.responses[5] == 3)
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func retriesAnotherInstanceWhenConnectingFails() async throws {
        let upstream = try await FixtureUpstream.start(name: "alive")
        let proxy = try await LiveProxy.start()
        let dead = try UpstreamInstance(id: "dead", version: "v1", host: "127.0.0.1", port: try LoopbackHTTP.freePort())
        try proxy.route([dead, upstream.instance()])
        let statuses = try await withClient { client in
            var statuses: [Int] = []
            for _ in 0..<30 { statuses.append(try await get(client, proxy.url + "/").0) }
            return statuses
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func drainingLetsInFlightRequestsFinishAndTakesNoNewOnes() async throws {
        let old = try await FixtureUpstream.start(name: "old")
        let new = try await FixtureUpstream.start(name: "new")
        let proxy = try await LiveProxy.start()
        let oldInstance = try old.instance()
        try proxy.route([oldInstance])
        try await withClient { client in
            let slow = (0..<5).map { _ in
                Task { try await get(client, proxy.url + "/slow?ms=600") }
            }
            try await waitUntil("5 requests in flight") { oldInstance.inFlight == 5 }
            try proxy.route([new.instance()])
            let started = ContinuousClock.now
            let busy = await proxy.listener.drain([oldInstance], timeout: .seconds(5))
            let took = ContinuousClock.now - started
            #expect(busy.isEmpty)
            #expect(took >= .milliseconds(300))
            #expect(took < .seconds(3))
            for request in slow {
                let (status, body) = try await request.value
                #expect(status == 200)
                #expect(body == "slow\n")
            }
            let (_, after) = try await get(client, proxy.url + "/")
            #expect(after == "new\n")
        }
        try await waitUntil("the old instance's pooled connections closed") { old.openConnections == 0 }
        try await proxy.stop()
        try await old.stop()
        try await new.stop()
    }

    @Test func noFailedRequestUnderLoadWhileInstancesComeAndGo() async throws {
        var upstreams = [try await FixtureUpstream.start(name: "u0")]
        let proxy = try await LiveProxy.start()
        var routed = [try upstreams[0].instance()]
        try proxy.route(routed)
        let counters = LoadCounters()
        try await withClient { client in
            let workers = (0..<12).map { _ in
                Task {
                    while !counters.stop.load(ordering: .relaxed) {
                        do {
                            let (status, _) = try await get(client, proxy.url + "/slow?ms=5")
                            if status == 200 {
                                counters.successes.add(1, ordering: .relaxed)
                            } else {
                                counters.failures.add(1, ordering: .relaxed)
                            }
                        } catch {
                            counters.failures.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            for round in 1...4 {
                try await Task.sleep(for: .milliseconds(300))
                // Add one instance, then take the oldest out, drain it and stop it.
                let added = try await FixtureUpstream.start(name: "u\(round)")
                upstreams.append(added)
                routed.append(try added.instance())
                try proxy.route(routed)
                try await Task.sleep(for: .milliseconds(300))
                let leaving = routed.removeFirst()
                try proxy.route(routed)
                let busy = await proxy.listener.drain([leaving], timeout: .seconds(5))
                #expect(busy.isEmpty)
                try await upstreams.removeFirst().stop()
            }
            try await Task.sleep(for: .milliseconds(300))
            counters.stop.store(true, ordering: .relaxed)
            for worker in workers { await worker.value }
        }
        #expect(counters.failures.load(ordering: .relaxed) == 0)
        #expect(counters.successes.load(ordering: .relaxed) > 200)
        try await proxy.stop()
        for upstream in upstreams { try await upstream.stop() }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send(
            "GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /status?code=201 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        let text = connection.readText(until: "HTTP/1.1 ", count: 3)
        let slow = try #require(text.range(of: "slow\n"))
        let name = try #require(text.range(of: "\r\n\r\na\n"))
        let created = try #require(text.range(of: "HTTP/1.1 201"))
        #expect(slow.lowerBound < name.lowerBound)
        #expect(name.lowerBound < created.lowerBound)
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func expectContinueIsAnsweredAndTheBodyFollows() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = connection.readText(until: "\r\n\r\n")
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        connection.send("hello")
        let response = connection.readText(until: "}")
        #expect(response.contains("HTTP/1.1 200 OK"))
        #expect(response.contains("\"bytes\":5"))
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func chunkedRequestBodiesStreamThrough() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        let response = connection.readText(until: "}")
        #expect(response.contains("\"bytes\":5"))
        #expect(response.contains("\"sum\":\(Array("abcde".utf8).reduce(0) { $0 + Int($1) })"))
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func webSocketsAreTunnelled() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        connection.send(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        let handshake = connection.readText(until: "\r\n\r\n")
        #expect(handshake.hasPrefix("HTTP/1.1 101"), "\(handshake)")
        #expect(handshake.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="))
        for message in ["hello through the proxy", "second frame"] {
            connection.send(Self.maskedTextFrame(message))
            let frame = connection.read { $0.count >= 2 && $0.count >= 2 + Int($0[1] & 0x7F) }
            #expect(frame.first == 0x81)
            #expect(String(decoding: frame.dropFirst(2), as: UTF8.self) == message)
        }
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func aWebSocketFrameSentWithTheUpgradeRequestGoesThroughTheTunnel() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let connection = try RawConnection(port: proxy.port)
        let message = "sent before the 101"
        connection.send(
            Array(
                ("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").utf8
            ) + Self.maskedTextFrame(message)
        )
        let marker = Array("\r\n\r\n".utf8)
        let bytes = connection.read { data in
            guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<($0 + 4)]) == marker }) else {
                return false
            }
            let frame = data.dropFirst(end + 4)
            return frame.count >= 2 && frame.count >= 2 + Int(frame[frame.startIndex + 1] & 0x7F)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 101"), "\(text)")
        #expect(text.hasSuffix(message))
        try await proxy.stop()
        try await upstream.stop()
    }

    @Test func hundredMegabytesStreamBothWaysWithBoundedMemory() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let proxy = try await LiveProxy.start()
        try proxy.route([upstream.instance()])
        let size = 100 * 1024 * 1024
        let before = residentBytes()
        var peak = before
        try await withClient { client in
            let response = try await client.execute(
                HTTPClientRequest(url: proxy.url + "/download?bytes=\(size)"),
                timeout: .seconds(120)
            )
            #expect(response.status == .ok)
            var received = 0
            var sum: UInt32 = 0
            for try await chunk in response.body {
                sum &+= chunk.withUnsafeReadableBytes { bytes in
                    var partial: UInt32 = 0
                    for byte in bytes { partial &+= UInt32(byte) }
                    return partial
                }
                received += chunk.readableBytes
                if received % (8 << 20) < chunk.readableBytes { peak = max(peak, residentBytes()) }
            }
            #expect(received == size)
            // The pattern is offset % 251: whole cycles of 0...250, then a partial one.
            let cycles = UInt64(size / 251)
            let rest = UInt64(size % 251)
            let expected = UInt32(truncatingIfNeeded: cycles * (250 * 251 / 2) + rest * (rest - 1) / 2)
            #expect(sum == expected)

            var upload = HTTPClientRequest(url: proxy.url + "/upload")
            upload.method = .POST
            let chunk = ByteBuffer(bytes: (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0) })
            let chunks = AsyncStream<ByteBuffer> { continuation in
                for _ in 0..<100 { continuation.yield(chunk) }
                continuation.finish()
            }
            upload.body = .stream(chunks, length: .known(Int64(size)))
            let uploaded = try await client.execute(upload, timeout: .seconds(120))
            let body = String(buffer: try await uploaded.body.collect(upTo: 1024))
            #expect(uploaded.status == .ok)
            #expect(body.contains("\"bytes\":\(size)"))
            peak = max(peak, residentBytes())
        }
        // Neither body was held whole by the proxy (nor by the test's client).
        #expect(peak - before < 64 * 1024 * 1024, "resident memory grew by \((peak - before) >> 20) MiB")
        try await proxy.stop()
        try await upstream.stop()
    }

    static func maskedTextFrame(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)]
        frame += mask
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index % 4]) }
        return frame
    }
}

/// Outcomes of a load loop, shared by its workers.
final class LoadCounters: Sendable {
    let successes = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
