import NIOCore
import SlipwayHTTP1

/// One input: the bytes of a client connection. Besides crashes and memory errors, libFuzzer stops on a broken
/// invariant:
/// - the parts read do not depend on how the bytes arrive (all at once, or split where the first byte says), except
///   for how much of a body that turns out bad was read before the error;
/// - a head the proxy accepts, written as an instance receives it, is accepted again and says the same;
/// - the same holds for the bytes read as an instance's responses (the parts do not depend on the split).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let whole = read(bytes, split: size)
    let split = size > 1 ? Int(bytes[0]) % size : size
    let pieces = read(bytes, split: split)
    precondition(whole == pieces, "the parts depend on where the bytes were split: \(whole) vs \(pieces)")
    // The same bytes as an instance's responses, to a GET, and to a HEAD when the first byte is odd.
    let method: RequestMethod = size > 0 && bytes[0] & 1 == 1 ? .head : .get
    let responses = readResponses(bytes, split: size, method: method)
    let responsePieces = readResponses(bytes, split: split, method: method)
    precondition(
        responses == responsePieces,
        "the response parts depend on where the bytes were split: \(responses) vs \(responsePieces)"
    )
    return 0
}

/// The response parts, described, from `bytes` arriving in two pieces split at `split`; each head is also written
/// as a client receives it.
private func readResponses(_ bytes: UnsafeBufferPointer<UInt8>, split: Int, method: RequestMethod) -> [String] {
    var stream = ResponseStream(maxHeadBytes: 1024)
    var buffer = ByteBuffer()
    var parts: [String] = []
    for piece in [0..<split, split..<bytes.count] {
        buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[piece])))
        while true {
            switch stream.next(&buffer, requestMethod: method) {
            case .failure(let error):
                if let last = parts.last, last.hasPrefix("body ") { parts.removeLast() }
                parts.append("error \(error)")
                return parts
            case .success(nil):
                break
            case .success(.head(let head)?):
                parts.append("head \(head.status) \(head.fields.count) \(head.body)")
                var written = ByteBuffer()
                ClientResponseHead.write(head, clientMinorVersion: 1, clientKeepAlive: true, into: &written)
                precondition(written.readableBytes > 0, "an empty head was written")
                stream.recycle(head.fields)
                continue
            case .success(.body(let body)?):
                if let last = parts.last, last.hasPrefix("body ") {
                    parts[parts.count - 1] = last + hex(body)
                } else {
                    parts.append("body " + hex(body))
                }
                continue
            case .success(.end?):
                parts.append("end")
                continue
            }
            break
        }
    }
    return parts
}

/// The parts, described, from `bytes` arriving in two pieces split at `split`.
private func read(_ bytes: UnsafeBufferPointer<UInt8>, split: Int) -> [String] {
    var stream = RequestStream(maxRequestLineBytes: 256, maxHeadBytes: 1024)
    var buffer = ByteBuffer()
    var parts: [String] = []
    for piece in [0..<split, split..<bytes.count] {
        buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[piece])))
        while true {
            switch stream.next(&buffer) {
            case .failure(let error):
                // What of a bad body was forwarded before the error depends on where the bytes were split.
                if let last = parts.last, last.hasPrefix("body ") { parts.removeLast() }
                parts.append("error \(error)")
                return parts
            case .success(nil):
                break
            case .success(.head(let head)?):
                parts.append("head \(head.methodText) \(head.target) \(head.fields.count) \(head.body)")
                checkRoundTrip(head)
                stream.recycle(head.fields)
                continue
            case .success(.body(let body)?):
                // Bodies are joined: how they are cut depends on the arrival, their bytes do not. They are
                // described byte by byte: a piece may end inside a character.
                if let last = parts.last, last.hasPrefix("body ") {
                    parts[parts.count - 1] = last + hex(body)
                } else {
                    parts.append("body " + hex(body))
                }
                continue
            case .success(.end?):
                parts.append("end")
                continue
            }
            break
        }
    }
    return parts
}

private func checkRoundTrip(_ head: RequestHead) {
    var written = ByteBuffer()
    UpstreamRequestHead.write(head, clientAddress: "127.0.0.1", into: &written) { 1 }
    var parser = RequestHeadParser(maxRequestLineBytes: 4096, maxHeadBytes: 8192)
    guard case .head(let again) = parser.parse(&written) else {
        preconditionFailure("the forwarded head is refused: \(String(buffer: head.bytes).debugDescription)")
    }
    precondition(again.methodText == head.methodText && again.target == head.target, "the request line changed")
    precondition(again.body == head.body, "the body framing changed: \(head.body) → \(again.body)")
    precondition(again.upgrade == head.upgrade, "the protocol switch changed")
    precondition(written.readableBytes == 0, "bytes after the forwarded head")
}

/// The bytes of `body` in hexadecimal: pieces described one by one join into the description of the whole.
private func hex(_ body: ByteBuffer) -> String {
    let digits = Array("0123456789abcdef")
    var text = ""
    text.reserveCapacity(body.readableBytes * 2)
    for byte in body.readableBytesView {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xf)])
    }
    return text
}
