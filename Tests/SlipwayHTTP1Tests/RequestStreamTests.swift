import NIOCore
import SlipwayHTTP1
import Testing

@Suite struct RequestStreamTests {
    /// Feeds `text` in pieces of `step` bytes and describes every part read: `H target`, `B bytes`, `E`.
    static func parts(of text: String, step: Int) -> (parts: [String], error: HeadError?) {
        var stream = RequestStream()
        var buffer = ByteBuffer()
        var parts: [String] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            buffer.writeBytes(bytes[offset..<min(bytes.count, offset + step)])
            offset += step
            reading: while true {
                switch stream.next(&buffer) {
                case .failure(let error): return (parts, error)
                case .success(nil): break reading
                case .success(.head(let head)?): parts.append("H \(head.target)")
                case .success(.body(let body)?):
                    // Pieces of one body are joined, so the description does not depend on how bytes arrived.
                    if let last = parts.last, last.hasPrefix("B ") {
                        parts[parts.count - 1] = last + String(buffer: body)
                    } else {
                        parts.append("B " + String(buffer: body))
                    }
                case .success(.end?): parts.append("E")
                }
            }
        }
        return (parts, nil)
    }

    @Test(arguments: [1, 4, 13, 1000])
    func pipelinedRequestsWithBodiesArriveInOrderWhateverThePieces(step: Int) {
        let text =
            "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
            + "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
            + "\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n"
        let (parts, error) = Self.parts(of: text, step: step)
        #expect(error == nil)
        #expect(
            parts == [
                "H /a", "B hello", "E", "H /b", "E", "H /c", "B 3\r\nabc\r\n0\r\nT: 1\r\n\r\n", "E", "H /d", "E",
            ]
        )
    }

    @Test func aBadChunkIsAnErrorAfterTheHead() {
        let (parts, error) = Self.parts(
            of: "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            step: 1000
        )
        #expect(parts == ["H /a"])
        #expect(error == .badRequest("malformed chunk size"))
    }
}
