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

extension RequestStreamTests {
    /// The bytes of every body read from `bytes` arriving in two pieces split at `split`, and the heads' targets.
    static func rawParts(of bytes: [UInt8], split: Int) -> (targets: [String], bodies: [[UInt8]], error: HeadError?) {
        var stream = RequestStream(maxRequestLineBytes: 256, maxHeadBytes: 1024)
        var buffer = ByteBuffer()
        var targets: [String] = []
        var bodies: [[UInt8]] = []
        for piece in [0..<split, split..<bytes.count] {
            buffer.writeBytes(bytes[piece])
            reading: while true {
                switch stream.next(&buffer) {
                case .failure(let error): return (targets, bodies, error)
                case .success(nil): break reading
                case .success(.head(let head)?):
                    targets.append(head.target)
                    bodies.append([])
                case .success(.body(let body)?): bodies[bodies.count - 1] += Array(body.readableBytesView)
                case .success(.end?): continue
                }
            }
        }
        return (targets, bodies, nil)
    }

    /// A body whose pieces end inside a multi-byte character is still forwarded byte for byte, whatever the split.
    @Test(arguments: [1, 79, 80, 81, 101])
    func aBodySplitInsideACharacterKeepsItsBytes(split: Int) {
        let body: [UInt8] = [0x79, 0x2c, 0xf0, 0xaf, 0x78, 0x7f, 0x00, 0x00, 0x2f, 0x35, 0x20, 0x48]
        let bytes =
            Array("PGET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length:12\r\n\r\n".utf8)
            + body + Array("TTP/1.1\r\ns\r\n\r".utf8)
        let whole = Self.rawParts(of: bytes, split: bytes.count)
        let pieces = Self.rawParts(of: bytes, split: split)
        #expect(whole.targets == ["/1", "/2"])
        #expect(whole.bodies == [[], body])
        #expect(pieces.targets == whole.targets)
        #expect(pieces.bodies == whole.bodies)
        #expect(pieces.error == whole.error)
    }
}
