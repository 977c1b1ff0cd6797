import NIOCore
import SlipwayHTTP1
import Testing

@Suite struct UpstreamRequestHeadTests {
    func upstream(
        _ text: String,
        clientAddress: String? = "10.0.0.7",

        trace: (traceparent: String, tracestate: String?)? = nil
    ) throws -> String {
        let head = try #require(parseHead(text).head)
        var out = ByteBuffer()
        let added = UpstreamRequestHead.write(head, clientAddress: clientAddress, trace: trace, into: &out) {
            0x0123_4567_89ab_cdef
        }
        // A request id is added, and said so, only when the client sent none.
        #expect(added == (head.first(.xRequestID) == nil ? 0x0123_4567_89ab_cdef : nil))
        return String(buffer: out)
    }

    @Test func aPlainRequestKeepsItsBytesAndGainsTheForwardingFields() throws {
        let text = "GET /a?b=c HTTP/1.1\r\nHost: shop\r\nAccept:  */*\r\nX-Odd-Case: KeEp\r\n\r\n"
        #expect(
            try upstream(text)
                == "GET /a?b=c HTTP/1.1\r\nHost: shop\r\nAccept:  */*\r\nX-Odd-Case: KeEp\r\n"
                + "X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: http\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"
        )
    }

    @Test func hopByHopFieldsAndTheOnesConnectionNamesAreRemoved() throws {
        let text =
            "GET / HTTP/1.1\r\nConnection: keep-alive, X-Secret\r\nHost: shop\r\nKeep-Alive: timeout=5\r\n"
            + "X-Secret: s\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nTrailer: X\r\nUpgrade: h2c\r\n"
            + "X-Kept: k\r\n\r\n"
        #expect(
            try upstream(text, clientAddress: nil)
                == "GET / HTTP/1.1\r\nHost: shop\r\nX-Kept: k\r\nX-Forwarded-Proto: http\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"
        )
    }

    @Test func aProtocolSwitchKeepsUpgradeAndSaysSoInConnection() throws {
        let text = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Request-Id: c\r\n\r\n"
        #expect(
            try upstream(text, clientAddress: nil)
                == "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Request-Id: c\r\nConnection: Upgrade\r\n"
                + "X-Forwarded-Proto: http\r\n\r\n"
        )
    }

    @Test func forwardedForValuesAreJoinedAndTheClientAppended() throws {
        let text =
            "GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: x\r\nx-forwarded-for: 2.2.2.2, 3.3.3.3\r\n"
            + "X-Forwarded-Proto: https\r\n\r\n"
        #expect(
            try upstream(text)
                == "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\n"
                + "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.7\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"
        )
    }

    @Test func http10IsForwardedAsHTTP11AndExpectIsAnsweredByTheProxy() throws {
        #expect(
            try upstream("GET /old HTTP/1.0\r\nUser-Agent: u\r\n\r\n", clientAddress: nil)
                == "GET /old HTTP/1.1\r\nUser-Agent: u\r\nHost: \r\nX-Forwarded-Proto: http\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"
        )
        #expect(
            try upstream("GET http://shop:8080/a?b HTTP/1.0\r\n\r\n", clientAddress: nil)
                == "GET http://shop:8080/a?b HTTP/1.1\r\nHost: shop:8080\r\nX-Forwarded-Proto: http\r\n"
                + "X-Request-Id: 0123456789abcdef\r\n\r\n"
        )
        let put = "PUT /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
        #expect(
            try upstream(put, clientAddress: nil)
                == "PUT /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-Forwarded-Proto: http\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"
        )
    }

    @Test func theProxysTraceContextReplacesTheClients() throws {
        let text = "GET / HTTP/1.1\r\nHost: x\r\ntraceparent: 00-aa-bb-01\r\ntracestate: v=1\r\n\r\n"
        #expect(
            try upstream(text, clientAddress: nil, trace: ("00-cc-dd-01", nil))
                == "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: http\r\nX-Request-Id: 0123456789abcdef\r\n"
                + "traceparent: 00-cc-dd-01\r\n\r\n"
        )
    }

    @Test func requestIDsAreSixteenHexDigits() {
        #expect(RequestID.text(0) == "0000000000000000")
        #expect(RequestID.text(0xfe) == "00000000000000fe")
        #expect(RequestID.text(.max) == "ffffffffffffffff")
    }
}
