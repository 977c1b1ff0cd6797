import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

/// Proves `FixtureUpstream` itself, with AsyncHTTPClient and NIO WebSocket clients, before the proxy's live tests
/// rely on it.
@Suite(.timeLimit(.minutes(1))) struct FixtureUpstreamTests {
    @Test func rootAnswersTheNameAndHeadGetsTheHeadOnly() async throws {
        try await withFixtureUpstream(name: "blue") { fixture, client in
            let response = try await client.execute(fixtureRequest(fixture, "/"), timeout: .seconds(20))
            #expect(response.status == .ok)
            #expect(response.headers["content-type"].first?.hasPrefix("text/plain") == true)
            #expect(response.headers["x-fixture-name"] == ["blue"])
            #expect(try await fixtureText(response) == "blue\n")

            var head = fixtureRequest(fixture, "/")
            head.method = .HEAD
            let headResponse = try await client.execute(head, timeout: .seconds(20))
            #expect(headResponse.status == .ok)
            #expect(headResponse.headers["content-length"] == ["5"])
            #expect(try await fixtureText(headResponse) == "")
        }
    }

    @Test func headersEchoesTheRequestHeaders() async throws {
        try await withFixtureUpstream { fixture, client in
            var request = fixtureRequest(fixture, "/headers?probe=1")
            request.headers.add(name: "X-Slipway-Test", value: "hello")
            request.headers.add(name: "X-Slipway-Test", value: "again, \"quoted\"")
            let response = try await client.execute(request, timeout: .seconds(20))
            #expect(response.status == .ok)
            #expect(response.headers["content-type"] == ["application/json"])
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            )
            #expect(json["x-slipway-test"] as? [String] == ["hello", "again, \"quoted\""])
            #expect(json["_method"] as? String == "GET")
            #expect(json["_uri"] as? String == "/headers?probe=1")
            #expect(json["_version"] as? String == "HTTP/1.1")
            #expect(json["host"] as? [String] == ["127.0.0.1:\(fixture.port)"])
        }
    }

    @Test func downloadStreamsTheContentLengthBody() async throws {
        try await withFixtureUpstream { fixture, client in
            let size = 5 * 1024 * 1024
            let response = try await client.execute(
                fixtureRequest(fixture, "/download?bytes=\(size)"),
                timeout: .seconds(30)
            )
            #expect(response.status == .ok)
            #expect(response.headers["content-length"] == [String(size)])
            let received = try await fixtureConsumePattern(response.body)
            #expect(received.bytes == size)
            #expect(received.sum == fixturePatternSum(size))
            #expect(received.mismatches == 0)
        }
    }

    @Test func chunkedDownloadHasNoContentLength() async throws {
        try await withFixtureUpstream { fixture, client in
            let size = 1024 * 1024 + 7
            let response = try await client.execute(
                fixtureRequest(fixture, "/download-chunked?bytes=\(size)"),
                timeout: .seconds(30)
            )
            #expect(response.status == .ok)
            #expect(response.headers["content-length"].isEmpty)
            #expect(response.headers["transfer-encoding"] == ["chunked"])
            let received = try await fixtureConsumePattern(response.body)
            #expect(received.bytes == size)
            #expect(received.sum == fixturePatternSum(size))
            #expect(received.mismatches == 0)
        }
    }

    @Test(arguments: [true, false])
    func uploadCountsAndSumsAStreamedBody(knownLength: Bool) async throws {
        try await withFixtureUpstream { fixture, client in
            let size = 3 * 1024 * 1024 + 100
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(fixture.port)/upload")
            request.method = .POST
            request.body = .bytes(fixtureUploadBytes(size), length: knownLength ? .known(Int64(size)) : .unknown)
            let response = try await client.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
            )
            #expect(json["bytes"] as? Int == size)
            #expect(json["sum"] as? Int == Int(fixtureUploadSum(size)))
        }
    }

    @Test func statusAnswersTheRequestedCode() async throws {
        try await withFixtureUpstream { fixture, client in
            let response = try await client.execute(fixtureRequest(fixture, "/status?code=503"), timeout: .seconds(20))
            #expect(response.status == .serviceUnavailable)
            #expect(try await fixtureText(response) == "status 503\n")

            let bad = try await client.execute(fixtureRequest(fixture, "/status?code=abc"), timeout: .seconds(20))
            #expect(bad.status == .badRequest)
            let missing = try await client.execute(fixtureRequest(fixture, "/nowhere"), timeout: .seconds(20))
            #expect(missing.status == .notFound)
        }
    }

    @Test func slowWaitsBeforeAnswering() async throws {
        try await withFixtureUpstream { fixture, client in
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await client.execute(fixtureRequest(fixture, "/slow?ms=100"), timeout: .seconds(20))
            let body = try await fixtureText(response)
            #expect(clock.now - start >= .milliseconds(100))
            #expect(response.status == .ok)
            #expect(body == "slow\n")
        }
    }

    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        try await withFixtureUpstream { fixture, client in
            for _ in 0..<10 {
                let response = try await client.execute(fixtureRequest(fixture, "/"), timeout: .seconds(20))
                #expect(try await fixtureText(response) == "fixture\n")
            }
            #expect(fixture.requestCount == 10)
            #expect(fixture.openConnections == 1)
        }
    }

    @Test func closeAnswersThenClosesTheConnection() async throws {
        try await withFixtureUpstream { fixture, client in
            let response = try await client.execute(fixtureRequest(fixture, "/close"), timeout: .seconds(20))
            #expect(response.headers["connection"] == ["close"])
            #expect(try await fixtureText(response) == "bye\n")
            #expect(await fixtureWaitUntil { fixture.openConnections == 0 })
        }
    }

    @Test func hangNeverAnswersAndNoticesThePeerLeaving() async throws {
        try await withFixtureUpstream { fixture, client in
            let hanging = Task {
                try await fixtureText(client.execute(fixtureRequest(fixture, "/hang"), timeout: .seconds(30)))
            }
            #expect(await fixtureWaitUntil { fixture.requestCount == 1 })
            #expect(fixture.openConnections == 1)
            try await Task.sleep(for: .milliseconds(200))
            // Cancelling makes the client close the connection: a hung request has no other way out.
            hanging.cancel()
            await #expect(throws: (any Error).self) { _ = try await hanging.value }
            #expect(await fixtureWaitUntil { fixture.openConnections == 0 })
        }
    }

    @Test func webSocketEchoesFramesAnswersPingsAndCloses() async throws {
        try await withFixtureUpstream { fixture, _ in
            let upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: fixture.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        fixtureCloseLater(channel)
                        let upgrader = NIOTypedWebSocketClientUpgrader<FixtureWebSocketUpgrade>(
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    .upgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                                }
                            }
                        )
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: "127.0.0.1:\(fixture.port)")
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration<FixtureWebSocketUpgrade>(
                            upgradeRequestHead: HTTPRequestHead(
                                version: .http1_1,
                                method: .GET,
                                uri: "/ws",
                                headers: headers
                            ),
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.eventLoop.makeSucceededFuture(.notUpgraded)
                            }
                        )
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: .init(upgradeConfiguration: configuration)
                        )
                    }
                }
            guard case .upgraded(let webSocket) = try await upgrade.get() else {
                Issue.record("the fixture refused the WebSocket upgrade")
                return
            }
            try await webSocket.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()

                try await outbound.write(fixtureClientFrame(.text, "hello slipway"))
                let text = try #require(try await frames.next())
                #expect(text.opcode == .text)
                #expect(text.fin)
                #expect(String(buffer: text.unmaskedData) == "hello slipway")

                try await outbound.write(fixtureClientFrame(.binary, "\u{0}\u{1}\u{2}binary"))
                let binary = try #require(try await frames.next())
                #expect(binary.opcode == .binary)
                #expect(String(buffer: binary.unmaskedData) == "\u{0}\u{1}\u{2}binary")

                try await outbound.write(fixtureClientFrame(.ping, "are you there"))
                let pong = try #require(try await frames.next())
                #expect(pong.opcode == .pong)
                #expect(String(buffer: pong.unmaskedData) == "are you there")

                var code = ByteBuffer()
                code.write(webSocketErrorCode: .normalClosure)
                try await outbound.write(
                    WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
                )
                let close = try #require(try await frames.next())
                #expect(close.opcode == .connectionClose)
                var closeData = close.unmaskedData
                #expect(closeData.readWebSocketErrorCode() == .normalClosure)
            }
            #expect(fixture.requestCount == 1)
        }
    }

    @Test func webSocketUpgradeWorksAfterKeptAliveRequests() async throws {
        try await withFixtureUpstream { fixture, _ in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: fixture.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        fixtureCloseLater(channel)
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            // A plain request, then the upgrade and a masked text frame, all pipelined in one write.
            var bytes = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            bytes.writeString(
                "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            let payload = Array("echo me".utf8)
            let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
            bytes.writeBytes([0x81, 0x80 | UInt8(payload.count)] + mask)
            bytes.writeBytes(payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })

            let received = try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(bytes)
                var received: [UInt8] = []
                for try await chunk in inbound {
                    received += chunk.readableBytesView
                    if fixtureEchoedFrame(in: received) != nil { break }
                }
                return received
            }
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("\r\n\r\nfixture\nHTTP/1.1 101 Switching Protocols\r\n"))
            #expect(text.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"))
            #expect(fixtureEchoedFrame(in: received) == [0x81, UInt8(payload.count)] + payload)
            #expect(fixture.requestCount == 2)
        }
    }
}

// MARK: - Helpers

/// Starts a fixture and a client, runs `body`, then always shuts both down.
private func withFixtureUpstream(
    name: String = "fixture",
    _ body: (FixtureUpstream, HTTPClient) async throws -> Void
) async throws {
    let fixture = try await FixtureUpstream.start(name: name)
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    let result: Result<Void, any Error>
    do {
        try await body(fixture, client)
        result = .success(())
    } catch {
        result = .failure(error)
    }
    try await client.shutdown()
    try await fixture.stop()
    try result.get()
}

private func fixtureRequest(_ fixture: FixtureUpstream, _ target: String) -> HTTPClientRequest {
    HTTPClientRequest(url: "http://127.0.0.1:\(fixture.port)\(target)")
}

private func fixtureText(_ response: HTTPClientResponse) async throws -> String {
    String(buffer: try await response.body.collect(upTo: 1 << 20))
}

/// Polls `condition` every 10 ms for at most `seconds` (generous: the suites share 2 cores).
private func fixtureWaitUntil(seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Closes `channel` after 20 s whatever happens, so a stuck exchange ends.
private func fixtureCloseLater(_ channel: any Channel) {
    channel.eventLoop.scheduleTask(in: .seconds(20)) {
        channel.close(promise: nil)
    }
}

private struct FixturePatternCheck {
    var bytes = 0
    var sum: UInt32 = 0
    var mismatches = 0
}

/// `offset % 251` for offsets 0..<(64 KiB + 251): any run of up to 64 KiB of the pattern is a slice of it.
private let fixtureDownloadPattern = ByteBuffer(bytes: (0..<(65_536 + 251)).map { UInt8($0 % 251) })

/// Reads a download body, comparing it window by window with the `offset % 251` pattern.
private func fixtureConsumePattern(_ body: HTTPClientResponse.Body) async throws -> FixturePatternCheck {
    var check = FixturePatternCheck()
    for try await var chunk in body {
        check.sum &+= FixtureChecksum.sum(chunk)
        while chunk.readableBytes > 0 {
            let length = min(chunk.readableBytes, 65_536)
            let received = chunk.readSlice(length: length)!
            if received != fixtureDownloadPattern.getSlice(at: check.bytes % 251, length: length)! {
                check.mismatches += 1
            }
            check.bytes += length
        }
    }
    return check
}

/// The sum mod 2^32 of the first `count` bytes of the download pattern.
private func fixturePatternSum(_ count: Int) -> UInt32 {
    let cycles = count / 251
    let rest = count % 251
    return UInt32(truncatingIfNeeded: cycles * (250 * 251 / 2) + rest * (rest - 1) / 2)
}

/// The upload body: byte `i` is `(i * 7 + 3) % 256`, a permutation of 0...255 in every block of 256.
private func fixtureUploadBytes(_ count: Int) -> [UInt8] {
    let block = (0..<256).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 256)
    while bytes.count < count {
        bytes.append(contentsOf: block)
    }
    bytes.removeLast(bytes.count - count)
    return bytes
}

/// The sum mod 2^32 of `fixtureUploadBytes(count)`, computed without it.
private func fixtureUploadSum(_ count: Int) -> UInt32 {
    let rest = (0..<(count % 256)).reduce(0) { $0 + ($1 * 7 + 3) % 256 }
    return UInt32(truncatingIfNeeded: (count / 256) * (255 * 256 / 2) + rest)
}

private enum FixtureWebSocketUpgrade: Sendable {
    case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
    case notUpgraded
}

private func fixtureClientFrame(_ opcode: WebSocketOpcode, _ text: String) -> WebSocketFrame {
    WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(string: text))
}

/// The first server frame after the 101 response's head, once it has fully arrived.
private func fixtureEchoedFrame(in received: [UInt8]) -> [UInt8]? {
    let marker = Array("HTTP/1.1 101".utf8)
    guard let switching = fixtureFirstIndex(of: marker, in: received, from: 0),
        let headEnd = fixtureFirstIndex(of: Array("\r\n\r\n".utf8), in: received, from: switching)
    else { return nil }
    let frameStart = headEnd + 4
    guard received.count >= frameStart + 2 else { return nil }
    let length = Int(received[frameStart + 1] & 0x7F)
    guard received.count >= frameStart + 2 + length else { return nil }
    return Array(received[frameStart..<(frameStart + 2 + length)])
}

private func fixtureFirstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
    for index in start...(haystack.count - needle.count) where Array(haystack[index..<(index + needle.count)]) == needle
    {
        return index
    }
    return nil
}
