import NIOCore
import SlipwayHTTP1
import Testing

@Suite struct RequestHeadParserTests {
    @Test func aHeadIsReadInPlaceWithItsFieldsAndFraming() throws {
        let text = "POST /orders?card=1 HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nX-User:  ann \t\r\n\r\nhello"
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(string: text)
        let head = try #require(parser.parse(&buffer).head)
        #expect(head.method == .post)
        #expect(head.methodText == "POST")
        #expect(head.target == "/orders?card=1")
        #expect(head.minorVersion == 1)
        #expect(head.body == .length(5))
        #expect(head.keepAlive)
        #expect(!head.upgrade && !head.expectsContinue)
        #expect(head.fieldTexts.map(\.0) == ["Host", "Content-Length", "X-User"])
        #expect(head.fieldTexts.map(\.1) == ["shop", "5", "ann"])
        #expect(head.fields.map(\.known) == [.host, .contentLength, .other])
        // The head's bytes are exactly the head; the body stays in the buffer.
        #expect(String(buffer: head.bytes) == String(text.dropLast(5)))
        #expect(String(buffer: buffer) == "hello")
    }

    @Test func aHeadArrivingByteByByteIsFoundOnceComplete() throws {
        let text = "GET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
        var parser = RequestHeadParser()
        var buffer = ByteBuffer()
        var targets: [String] = []
        for byte in text.utf8 {
            buffer.writeInteger(byte)
            while case .head(let head) = parser.parse(&buffer) { targets.append(head.target) }
        }
        #expect(targets == ["/a", "/b"])
        #expect(buffer.readableBytes == 0)
    }

    @Test func emptyLinesBeforeARequestAreSkipped() throws {
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(string: "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(parser.parse(&buffer).head?.target == "/")
    }

    @Test func connectionIntentFollowsTheVersionAndTheConnectionField() throws {
        #expect(parseHead("GET / HTTP/1.1\r\nHost: x\r\n\r\n").head?.keepAlive == true)
        #expect(parseHead("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").head?.keepAlive == false)
        #expect(parseHead("GET / HTTP/1.0\r\n\r\n").head?.keepAlive == false)
        #expect(parseHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").head?.keepAlive == true)
        let upgrade = try #require(
            parseHead("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")
                .head
        )
        #expect(upgrade.upgrade && upgrade.keepAlive && !upgrade.connectionNamesFields)
        // Upgrade needs both fields, and a GET.
        #expect(parseHead("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n").head?.upgrade == false)
        #expect(
            parseHead("POST / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n").head?.upgrade
                == false
        )
        #expect(
            parseHead("GET / HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\n\r\n").head?.connectionNamesFields
                == true
        )
        #expect(
            parseHead("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: 100-Continue\r\n\r\n").head?
                .expectsContinue == true
        )
    }

    @Test func framingIsReadFromContentLengthOrChunked() throws {
        #expect(parseHead("GET / HTTP/1.1\r\nHost: x\r\n\r\n").head?.body == MessageBody.none)
        #expect(parseHead("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").head?.body == MessageBody.none)
        #expect(parseHead("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\n\r\n").head?.body == .length(7))
        #expect(
            parseHead("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n").head?.body
                == .length(7)
        )
        #expect(parseHead("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").head?.body == .chunked)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\nHost: x\r\n\r\n", "bare LF in the request head"),
        ("GET / HTTP/1.1\r\nHost: x\n\n", "bare LF in the request head"),
        ("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n", "invalid byte in a header field value"),
        ("GET / HTTP/1.1\r\nHost: x\r\nA: b\u{0}c\r\n\r\n", "invalid byte in a header field value"),
        ("GET / HTTP/1.1\r\nHost: x\r\nA: b\u{7f}\r\n\r\n", "invalid byte in a header field value"),
        ("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", "obsolete line folding in the request head"),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", "whitespace before the colon of a header field"),
        ("GET / HTTP/1.1\r\nHo\"st: x\r\n\r\n", "malformed header field name"),
        ("GET / HTTP/1.1\r\n: x\r\n\r\n", "malformed header field name"),
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request line"),
        ("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", "malformed HTTP version"),
        ("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", "malformed HTTP version"),
        ("GET /\u{1}a HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request line"),
        ("GET foo HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request target"),
        ("GET * HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request target"),
        ("CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", "CONNECT is not served"),
        ("GET / http/1.1\r\nHost: x\r\n\r\n", "malformed HTTP version"),
        ("GET / HTTP/1.1\r\n\r\n", "no Host header"),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "more than one Host header"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", "conflicting Content-Length"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length"),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", "unsupported Transfer-Encoding"),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported Transfer-Encoding"),
        (
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "unsupported Transfer-Encoding"
        ),
        (
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both Content-Length and Transfer-Encoding"
        ),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 request"),
    ])
    func ambiguousOrMalformedHeadsAreRefused(_ text: String, _ reason: String) {
        #expect(parseHead(text).error == .badRequest(reason), "\(text.debugDescription)")
    }

    @Test func otherHTTPVersionsAreUnsupported() {
        #expect(parseHead("GET / HTTP/2.0\r\nHost: x\r\n\r\n").error == .unsupportedVersion)
        #expect(parseHead("GET / HTTP/1.2\r\nHost: x\r\n\r\n").error == .unsupportedVersion)
        #expect(parseHead("GET / HTTP/1.2\r\nHost: x\r\n\r\n").error?.status == 505)
    }

    @Test func limitsAreCheckedAsBytesArriveNotOnlyOnceTheHeadIsComplete() {
        var parser = RequestHeadParser(maxRequestLineBytes: 64, maxHeadBytes: 256)
        var buffer = ByteBuffer(string: "GET /" + String(repeating: "a", count: 70))
        #expect(parser.parse(&buffer).error == .requestLineTooLong)
        parser = RequestHeadParser(maxRequestLineBytes: 64, maxHeadBytes: 256)
        buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 300))
        #expect(parser.parse(&buffer).error == .headTooLarge)
        #expect(parser.parse(&buffer).error?.status == 431)
        // Exactly at the limits is fine.
        let line = "GET /" + String(repeating: "a", count: 64 - 16) + " HTTP/1.1\r\n"
        #expect(line.utf8.count == 64)
        let head = line + "Host: x\r\n\r\n"
        #expect(parseHead(head, maxRequestLineBytes: 64, maxHeadBytes: head.utf8.count).head != nil)
        #expect(parseHead(head, maxRequestLineBytes: 63).error == .requestLineTooLong)
        #expect(parseHead(head, maxHeadBytes: head.utf8.count - 1).error == .headTooLarge)
    }

    @Test func absoluteFormAndAsteriskTargetsAreAccepted() {
        #expect(parseHead("GET http://shop/a HTTP/1.1\r\nHost: shop\r\n\r\n").head?.target == "http://shop/a")
        #expect(parseHead("OPTIONS * HTTP/1.1\r\nHost: shop\r\n\r\n").head?.method == .options)
    }

    @Test func extensionMethodsAreTokensAndPassThrough() {
        let head = parseHead("PROPFIND /d HTTP/1.1\r\nHost: x\r\n\r\n").head
        #expect(head?.method == .other)
        #expect(head?.methodText == "PROPFIND")
    }

    @Test func valuesAreFoundByAnyCaseOfTheirName() throws {
        let head = try #require(parseHead("GET / HTTP/1.1\r\nHost: x\r\nX-Beta: no\r\nx-beta: yes\r\n\r\n").head)
        var seen: [String] = []
        let found: Bool? = head.firstValue(named: "X-BETA") { value in
            seen.append(String(decoding: value, as: UTF8.self))
            return seen.last == "yes" ? true : nil
        }
        #expect(found == true)
        #expect(seen == ["no", "yes"])
        #expect(head.firstValue(named: "X-Bet") == nil)
        #expect(head.firstValue(named: "x-beta") == "no")
        #expect(head.value(of: .host) == "x")
    }

    @Test func recycledFieldStorageIsReusedAndHoldsNothingOfTheLastHead() throws {
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(
            string: "GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\nGET /b HTTP/1.1\r\nHost: y\r\n\r\n"
        )
        let first = try #require(parser.parse(&buffer).head)
        #expect(first.fields.count == 3)
        parser.recycle(first.fields)
        let second = try #require(parser.parse(&buffer).head)
        #expect(second.fieldTexts.map(\.1) == ["y"])
        #expect(second.fields.capacity >= 3)
    }
}
