import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite struct DataPlaneHeaderRewritingTests {
    @Test func removesHopByHopHeadersAndAddsForwardingHeaders() {
        var head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/x",
            headers: [
                "Host": "shop", "Connection": "keep-alive, X-Secret", "Keep-Alive": "timeout=5", "X-Secret": "1",
                "TE": "trailers", "Proxy-Connection": "keep-alive", "traceparent": "00-abc-def-01",
                "X-Forwarded-For": "10.0.0.1",
            ]
        )
        let intent = HeaderRewriting.prepareRequest(&head, clientAddress: "127.0.0.1") { "0123456789abcdef" }
        #expect(intent.keepAlive)
        #expect(!intent.upgrade)
        for gone in ["connection", "keep-alive", "x-secret", "te", "proxy-connection"] {
            #expect(!head.headers.contains(name: gone), "\(gone) must be removed")
        }
        #expect(head.headers["traceparent"] == ["00-abc-def-01"])
        #expect(head.headers["X-Forwarded-For"] == ["10.0.0.1, 127.0.0.1"])
        #expect(head.headers["X-Forwarded-Proto"] == ["http"])
        #expect(head.headers["X-Request-Id"] == ["0123456789abcdef"])
        #expect(head.headers["Host"] == ["shop"])
    }

    @Test func keepsAnExistingRequestID() {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["X-Request-Id": "abc"])
        _ = HeaderRewriting.prepareRequest(&head, clientAddress: nil) { "new" }
        #expect(head.headers["X-Request-Id"] == ["abc"])
    }

    @Test func readsKeepAliveByVersion() {
        var closing = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Connection": "close"])
        #expect(!HeaderRewriting.prepareRequest(&closing, clientAddress: nil) { "" }.keepAlive)
        var old = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/", headers: [:])
        #expect(!HeaderRewriting.prepareRequest(&old, clientAddress: nil) { "" }.keepAlive)
        #expect(old.version == .http1_1)
        var oldKeep = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/", headers: ["Connection": "Keep-Alive"])
        #expect(HeaderRewriting.prepareRequest(&oldKeep, clientAddress: nil) { "" }.keepAlive)
    }

    @Test func keepsAWebSocketUpgrade() {
        var head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/ws",
            headers: ["Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "k"]
        )
        let intent = HeaderRewriting.prepareRequest(&head, clientAddress: nil) { "" }
        #expect(intent.upgrade)
        #expect(head.headers["Upgrade"] == ["websocket"])
        #expect(head.headers["Connection"] == ["Upgrade"])
    }

    @Test func answersExpectContinueItself() {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["Expect": "100-continue"])
        #expect(HeaderRewriting.prepareRequest(&head, clientAddress: nil) { "" }.expectsContinue)
        #expect(!head.headers.contains(name: "Expect"))
    }

    @Test func preparesResponses() {
        var head = HTTPResponseHead(
            version: .http1_1,
            status: .ok,
            headers: ["Connection": "close", "Keep-Alive": "timeout=5", "Content-Length": "2"]
        )
        let upstreamKeepAlive = HeaderRewriting.prepareResponse(&head, clientVersion: .http1_1, clientKeepAlive: true)
        #expect(!upstreamKeepAlive)
        #expect(!head.headers.contains(name: "Keep-Alive"))
        #expect(!head.headers.contains(name: "Connection"))
        #expect(head.headers["Content-Length"] == ["2"])

        var forOldClient = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
        #expect(HeaderRewriting.prepareResponse(&forOldClient, clientVersion: .http1_0, clientKeepAlive: true))
        #expect(forOldClient.version == .http1_0)
        #expect(forOldClient.headers["Connection"] == ["keep-alive"])

        var closing = HTTPResponseHead(version: .http1_1, status: .ok, headers: [:])
        _ = HeaderRewriting.prepareResponse(&closing, clientVersion: .http1_1, clientKeepAlive: false)
        #expect(closing.headers["Connection"] == ["close"])
    }
}
