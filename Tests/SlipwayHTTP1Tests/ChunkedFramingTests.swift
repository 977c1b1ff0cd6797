import SlipwayHTTP1
import Testing

@Suite struct ChunkedFramingTests {
    /// Feeds `text` in pieces of `step` bytes; returns where the body ended (offset into `text`) or the error.
    func follow(_ text: String, step: Int = .max) -> (end: Int?, error: String?) {
        var framing = ChunkedFraming(maxSizeLineBytes: 64, maxTrailerBytes: 128)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let piece = bytes[offset..<min(bytes.count, offset + step)]
            let progress = piece.withUnsafeBytes { framing.consume($0) }
            switch progress {
            case .more: offset += piece.count
            case .ended(let consumed): return (offset + consumed, nil)
            case .invalid(let reason): return (nil, reason)
            }
        }
        return (nil, nil)
    }

    @Test(arguments: [1, 2, 3, 7, Int.max])
    func aBodyEndsAfterItsLastChunkAndTrailersWhateverThePieces(step: Int) {
        let body = "5\r\nhello\r\n1a;name=\"v\"\r\n" + String(repeating: "x", count: 26) + "\r\n0\r\nX-Sum: 1\r\n\r\n"
        let next = "GET / HTTP/1.1\r\n"
        let result = follow(body + next, step: step)
        #expect(result.error == nil)
        #expect(result.end == body.utf8.count)
    }

    @Test func anEmptyBodyIsTheLastChunkAlone() {
        #expect(follow("0\r\n\r\n").end == 5)
        #expect(follow("000\r\n\r\nrest").end == 7)
    }

    @Test func anUnfinishedBodyWantsMore() {
        let result = follow("5\r\nhel")
        #expect(result.end == nil && result.error == nil)
    }

    @Test(arguments: [
        ("x\r\n", "malformed chunk size"),
        ("\r\n", "malformed chunk size"),
        ("-5\r\nhello\r\n", "malformed chunk size"),
        ("5 \r\nhello\r\n0\r\n\r\n", "malformed chunk size"),
        ("5\nhello\r\n", "bare LF in a chunk size line"),
        ("5\rxhello\r\n", "bare CR in a chunk size line"),
        ("5\r\nhello!\r\n", "chunk data longer than its size"),
        ("5\r\nhello\rx", "bare CR after chunk data"),
        ("5;a\u{0}\r\nhello\r\n", "invalid byte in a chunk extension"),
        ("5;\r\nhello\r\n", "malformed chunk extension"),
        ("5; =x\r\nhello\r\n", "malformed chunk extension"),
        ("5;a\nhello\r\n", "invalid byte in a chunk extension"),
        ("1000000000000000\r\n", "chunk size too large"),
        ("0\r\nX: a\u{1}\r\n\r\n", "invalid byte in a trailer field"),
        ("0\r\nX: a\r\n b\r\n\r\n", "obsolete line folding in a trailer"),
        ("0\r\nX : a\r\n\r\n", "malformed trailer field"),
        ("0\r\nX: a\rb\r\n\r\n", "bare CR in a trailer field"),
        ("0\r\n\rx", "bare CR at the end of a chunked body"),
    ])
    func malformedBodiesAreRefused(_ text: String, _ reason: String) {
        #expect(follow(text).error == reason, "\(text.debugDescription)")
    }

    @Test func sizeLinesAndTrailersHaveLimits() {
        #expect(follow("5;" + String(repeating: "e", count: 80) + "\r\n").error == "chunk size line too long")
        #expect(
            follow("0\r\nX: " + String(repeating: "t", count: 200) + "\r\n\r\n").error == "trailer section too large"
        )
    }

    @Test func fifteenHexDigitsAreTheLargestSize() {
        // 0xFFFFFFFFFFFFFFF bytes is past any body anyone sends, and still far from overflowing.
        #expect(follow("fffffffffffffff\r\nabc").error == nil)
    }
}
