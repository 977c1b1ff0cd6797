import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SlipwayHTTP1
import Testing

@testable import SlipwayProxy

/// The listener's client side on an `EmbeddedChannel`: raw bytes in, raw bytes out, no sockets.
@Suite struct DataPlaneFramingTests {
    /// A client connection of a listener whose route table is `table`.
    func makeChannel(
        table: RouteTable = .empty,
        settings: ProxySettings = ProxySettings()
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let core = try ListenerCore(app: "shop", settings: settings, group: channel.embeddedEventLoop)
        core.routes.store(AppRoutes(table: table, book: core.book), ordering: .releasing)
        try core.configure(channel)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5555)).wait()
        return channel
    }

    /// Everything the proxy wrote back, as text.
    func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    func send(_ request: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: request))
    }

    func refusal(for request: String) throws -> (response: String, open: Bool) {
        let channel = try makeChannel()
        try? send(request, to: channel)
        channel.embeddedEventLoop.run()
        let response = try output(channel)
        return (response, channel.isActive)
    }

    @Test(arguments: [
        (
            "both Content-Length and Transfer-Encoding",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        (
            "differing duplicate Content-Length",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
        ),
        ("differing Content-Length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        ("obfuscated Transfer-Encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
        (
            "Transfer-Encoding with a second coding",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
        ),
        (
            "Transfer-Encoding twice",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        (
            "space before the colon",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
        ),
        (
            "Transfer-Encoding on HTTP/1.0",
            "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        ("negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
        ("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        ("two Host headers", "GET / HTTP/1.1\r\nHost: a.example\r\nhost: b.example\r\n\r\n"),
        ("malformed request line", "GET /a b c\r\n\r\n"),
        ("garbage", "\u{01}\u{02}\u{03} not http\r\n\r\n"),
    ])
    func ambiguousOrMalformedRequestsAreRefusedAndClosed(_ name: String, _ request: String) throws {
        let (response, open) = try refusal(for: request)
        #expect(
            response.hasPrefix("HTTP/1.1 400 Bad Request\r\n") || response.hasPrefix("HTTP/1.0 400 Bad Request\r\n"),
            "\(name): \(response)"
        )
        #expect(response.lowercased().contains("connection: close"), "\(name)")
        #expect(!open, "\(name): the connection must be closed")
    }

    @Test func anHTTP10RequestNeedsNoHost() throws {
        let channel = try makeChannel()
        try send("GET / HTTP/1.0\r\n\r\n", to: channel)
        let response = try output(channel)
        // Past the head checks: no instance to send it to.
        #expect(response.hasPrefix("HTTP/1.0 503 Service Unavailable\r\n"), "\(response)")
    }

    @Test func anOversizedHeaderIsAnswered431() throws {
        let channel = try makeChannel(settings: ProxySettings(maxHeaderBytes: 1024, maxRequestLineBytes: 512))
        let big = String(repeating: "a", count: 2000)
        try? send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n", to: channel)
        let response = try output(channel)
        #expect(response.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(response)")
        #expect(!channel.isActive)
    }

    @Test func anOverlongRequestLineIsAnswered414() throws {
        let channel = try makeChannel(settings: ProxySettings(maxHeaderBytes: 4096, maxRequestLineBytes: 512))
        let path = "/" + String(repeating: "p", count: 600)
        try send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        let response = try output(channel)
        #expect(response.hasPrefix("HTTP/1.1 414 URI Too Long\r\n"), "\(response)")
        #expect(!channel.isActive)
    }

    @Test func noInstanceIsAnswered503WithRetryAfterAndTheConnectionStays() throws {
        let channel = try makeChannel()
        try send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /again HTTP/1.1\r\nHost: x\r\n\r\n", to: channel)
        let response = try output(channel)
        let answers = response.components(separatedBy: "HTTP/1.1 503 Service Unavailable\r\n")
        #expect(answers.count == 3, "both pipelined requests answered in order: \(response)")
        #expect(response.contains("Retry-After: 1\r\n"))
        #expect(response.contains("no healthy instance"))
        #expect(channel.isActive)
    }

    @Test func aRequestWithABodyAndNoInstanceIsAnsweredAndClosed() throws {
        let channel = try makeChannel()
        try send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", to: channel)
        let response = try output(channel)
        #expect(response.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(response.contains("Connection: close"))
        #expect(!channel.isActive)
    }

    @Test func anIncompleteHeadTimesOutWith408() throws {
        let channel = try makeChannel(settings: ProxySettings(headerTimeout: .seconds(2)))
        try send("GET / HTTP/1.1\r\nHost: x\r\n", to: channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
        #expect(try output(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2))
        let response = try output(channel)
        #expect(response.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(response)")
        #expect(!channel.isActive)
    }

    @Test func anIdleConnectionIsClosedSilentlyAfterTheIdleTimeout() throws {
        let channel = try makeChannel(settings: ProxySettings(idleTimeout: .seconds(5), headerTimeout: .seconds(1)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try output(channel).isEmpty)
        #expect(!channel.isActive)
    }
}

@Suite struct RequestFramingTests {
    /// What the front end makes of a request head with `headers` (nothing added).
    func check(_ method: String, _ headers: [(String, String)], minorVersion: Int = 1) -> Result<MessageBody, HeadError>
    {
        let text = "\(method) / HTTP/1.\(minorVersion)\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(string: text)
        switch parser.parse(&buffer) {
        case .head(let head): return .success(head.body)
        case .invalid(let error): return .failure(error)
        case .incomplete: return .failure(.badRequest("incomplete"))
        }
    }

    /// A POST with `headers` after its `Host`.
    func check(_ headers: [(String, String)], minorVersion: Int = 1) -> Result<MessageBody, HeadError> {
        check("POST", [("Host", "x")] + headers, minorVersion: minorVersion)
    }

    @Test func anHTTP11RequestNeedsExactlyOneHost() {
        #expect(check("GET", [("Host", "shop.example")]).isSuccess(.none))
        #expect(check("GET", [("HOST", "shop.example")]).isSuccess(.none))
        #expect(check("GET", [("Host", "")]).isSuccess(.none))
        #expect(check("GET", []).refusal == "no Host header")
        #expect(check("GET", [("Host", "a"), ("Host", "a")]).refusal == "more than one Host header")
        #expect(check("GET", [], minorVersion: 0).isSuccess(.none))
    }

    @Test func readsTheBodyFraming() {
        #expect(check([]).isSuccess(.none))
        #expect(check([("Content-Length", "0")]).isSuccess(.none))
        #expect(check([("content-length", "42")]).isSuccess(.length(42)))
        #expect(check([("Content-Length", "7"), ("Content-Length", "7")]).isSuccess(.length(7)))
        #expect(check([("Transfer-Encoding", "Chunked")]).isSuccess(.chunked))
        #expect(check([("Transfer-Encoding", " chunked ")]).isSuccess(.chunked))
    }

    @Test func refusesAmbiguity() {
        for headers in [
            [("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
            [("Content-Length", "3"), ("Content-Length", "4")],
            [("Content-Length", "3,4")],
            [("Content-Length", "+3")],
            [("Content-Length", "")],
            [("Transfer-Encoding", "gzip, chunked")],
            [("Transfer-Encoding", "chunked\u{0B}")],
            [("Transfer-Encoding", "identity")],
        ] {
            if case .success = check(headers) { Issue.record("accepted \(headers)") }
        }
        if case .success = check([("Transfer-Encoding", "chunked")], minorVersion: 0) {
            Issue.record("accepted chunked HTTP/1.0")
        }
    }
}

extension Result where Success == MessageBody, Failure == HeadError {
    func isSuccess(_ expected: MessageBody) -> Bool {
        if case .success(let body) = self { return body == expected }
        return false
    }

    /// Why a 400 refused it; nil when it was not refused so.
    var refusal: String? {
        guard case .failure(.badRequest(let reason)) = self else { return nil }
        return reason
    }
}
