import NIOCore
import NIOHTTP1
import SlipwayHTTP1
import Testing

@testable import SlipwayProxy

/// The heads instances and clients receive: the request a client sent, or the response an instance sent, through
/// the front end's edits, read back as header lists.
@Suite struct DataPlaneHeaderRewritingTests {
    /// Parses a request head with `headers`, writes it for an instance and reads the result back.
    func forwarded(
        _ method: String = "GET",
        _ uri: String = "/",
        minorVersion: Int = 1,
        headers: [(String, String)],
        clientAddress: String? = nil,
        requestID: UInt64 = 0x0123_4567_89ab_cdef
    ) throws -> (head: RequestHead, forwarded: RequestHead) {
        let text = "\(method) \(uri) HTTP/1.\(minorVersion)\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(string: text)
        guard case .head(let head) = parser.parse(&buffer) else { throw HeadNotParsed(text: text) }
        var out = ByteBuffer()
        UpstreamRequestHead.write(head, clientAddress: clientAddress, into: &out) { requestID }
        var again = RequestHeadParser()
        guard case .head(let forwarded) = again.parse(&out) else { throw HeadNotParsed(text: String(buffer: out)) }
        return (head, forwarded)
    }

    struct HeadNotParsed: Error {
        let text: String
    }

    @Test func removesHopByHopHeadersAndAddsForwardingHeaders() throws {
        let (head, forwarded) = try forwarded(
            "GET",
            "/x",
            headers: [
                ("Host", "shop"), ("Connection", "keep-alive, X-Secret"), ("Keep-Alive", "timeout=5"),
                ("X-Secret", "1"),
                ("TE", "trailers"), ("Proxy-Connection", "keep-alive"), ("traceparent", "00-abc-def-01"),
                ("X-Forwarded-For", "10.0.0.1"),
            ],
            clientAddress: "127.0.0.1"
        )
        #expect(head.keepAlive)
        #expect(!head.upgrade)
        for gone in ["connection", "keep-alive", "x-secret", "te", "proxy-connection"] {
            #expect(forwarded.firstValue(named: gone) == nil, "\(gone) must be removed")
        }
        #expect(forwarded.firstValue(named: "traceparent") == "00-abc-def-01")
        #expect(forwarded.firstValue(named: "X-Forwarded-For") == "10.0.0.1, 127.0.0.1")
        #expect(forwarded.firstValue(named: "X-Forwarded-Proto") == "http")
        #expect(forwarded.firstValue(named: "X-Request-Id") == "0123456789abcdef")
        #expect(forwarded.firstValue(named: "Host") == "shop")
    }

    @Test func keepsAnExistingRequestID() throws {
        let (_, forwarded) = try forwarded(headers: [("Host", "x"), ("X-Request-Id", "abc")], requestID: 7)
        #expect(forwarded.fieldValues(named: "X-Request-Id") == ["abc"])
    }

    @Test func readsKeepAliveByVersion() throws {
        #expect(try !forwarded(headers: [("Host", "x"), ("Connection", "close")]).head.keepAlive)
        let old = try forwarded(minorVersion: 0, headers: [])
        #expect(!old.head.keepAlive)
        #expect(old.forwarded.minorVersion == 1)
        #expect(try forwarded(minorVersion: 0, headers: [("Connection", "Keep-Alive")]).head.keepAlive)
    }

    @Test func keepsAWebSocketUpgrade() throws {
        let (head, forwarded) = try forwarded(
            "GET",
            "/ws",
            headers: [("Host", "x"), ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "k")]
        )
        #expect(head.upgrade)
        #expect(forwarded.fieldValues(named: "Upgrade") == ["websocket"])
        #expect(forwarded.fieldValues(named: "Connection") == ["Upgrade"])
    }

    @Test func answersExpectContinueItself() throws {
        let (head, forwarded) = try forwarded(
            "POST",
            headers: [("Host", "x"), ("Expect", "100-continue"), ("Content-Length", "1")]
        )
        #expect(head.expectsContinue)
        #expect(forwarded.firstValue(named: "Expect") == nil)
    }

    /// Parses a response head with `headers`, writes it for a client and reads the result back.
    func toClient(
        _ headers: [(String, String)],
        clientMinorVersion: Int,
        clientKeepAlive: Bool
    ) throws -> (head: ResponseHead, written: String) {
        let text = "HTTP/1.1 200 OK\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        var parser = ResponseHeadParser()
        var buffer = ByteBuffer(string: text)
        guard case .head(let head) = parser.parse(&buffer, requestMethod: .get) else { throw HeadNotParsed(text: text) }
        var out = ByteBuffer()
        ClientResponseHead.write(
            head,
            clientMinorVersion: clientMinorVersion,
            clientKeepAlive: clientKeepAlive,
            into: &out
        )
        return (head, String(buffer: out))
    }

    @Test func preparesResponses() throws {
        let (head, written) = try toClient(
            [("Connection", "close"), ("Keep-Alive", "timeout=5"), ("Content-Length", "2")],
            clientMinorVersion: 1,
            clientKeepAlive: true
        )
        #expect(!head.keepAlive)
        #expect(written == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")

        let forOldClient = try toClient([("Content-Length", "2")], clientMinorVersion: 0, clientKeepAlive: true)
        #expect(forOldClient.head.keepAlive)
        #expect(forOldClient.written == "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n")

        let closing = try toClient([], clientMinorVersion: 1, clientKeepAlive: false)
        #expect(closing.written == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    }
}

extension RequestHead {
    /// Every value of the fields named `name`, as text.
    func fieldValues(named name: String) -> [String] {
        fields.filter { text($0.name).lowercased() == name.lowercased() }.map { text($0.value) }
    }
}
