import NIOCore

/// The responses on one connection to an instance, read from its bytes as they arrive: each head (interim 1xx
/// heads included), its body's bytes as they came, and its end.
public struct ResponseStream: Sendable {
    /// One piece of a response.
    public enum Part: Sendable {
        case head(ResponseHead)
        /// Body bytes: as they came, or without the chunk framing when ``decodeChunks`` is set.
        case body(ByteBuffer)
        /// The response is complete.
        case end
    }

    private enum State: Sendable {
        case head
        case length(remaining: Int)
        case chunked(ChunkedFraming)
        case untilClose
        /// After `101 Switching Protocols`: the bytes are no longer HTTP.
        case switched
        case ended
    }

    private var parser: ResponseHeadParser
    private var state = State.head
    /// Take the chunk framing off the current body (for an HTTP/1.0 client); set after its head, reset at its end.
    public var decodeChunks = false

    /// A stream with the given head limit.
    public init(maxHeadBytes: Int = 64 * 1024) {
        parser = ResponseHeadParser(maxHeadBytes: maxHeadBytes)
    }

    /// Hands back a finished head's field storage for the next head.
    public mutating func recycle(_ fields: consuming [HeaderField]) {
        parser.recycle(fields)
    }

    /// Whether the connection switched protocols: what follows belongs to the tunnel.
    public var switched: Bool {
        if case .switched = state { return true }
        return false
    }

    /// The next part found at the start of `buffer`, read from it; nil when more bytes are needed. The response
    /// answers a request made with `requestMethod`. An error means the connection can no longer be used.
    public mutating func next(_ buffer: inout ByteBuffer, requestMethod: RequestMethod) -> Result<Part?, HeadError> {
        switch state {
        case .head:
            switch parser.parse(&buffer, requestMethod: requestMethod) {
            case .incomplete: return .success(nil)
            case .invalid(let error): return .failure(error)
            case .head(let head):
                if head.status == 101 {
                    state = .switched
                } else if !head.isInterim {
                    switch head.body {
                    case .none: state = .ended
                    case .length(let length): state = .length(remaining: length)
                    case .chunked: state = .chunked(ChunkedFraming())
                    case .untilClose: state = .untilClose
                    }
                }
                return .success(.head(head))
            }
        case .length(let remaining):
            guard let (body, left) = buffer.readBody(upTo: remaining) else { return .success(nil) }
            state = left == 0 ? .ended : .length(remaining: left)
            return .success(.body(body))
        case .chunked(var framing):
            guard buffer.readableBytes > 0 else { return .success(nil) }
            var data: [Range<Int>] = []
            let progress = buffer.withUnsafeReadableBytes { bytes in
                decodeChunks ? framing.consume(bytes) { data.append($0) } : framing.consume(bytes)
            }
            let consumed: Int
            switch progress {
            case .more:
                state = .chunked(framing)
                consumed = buffer.readableBytes
            case .ended(let count):
                state = .ended
                consumed = count
            case .invalid(let reason):
                return .failure(.badResponse(reason))
            }
            let raw = buffer.readSlice(length: consumed)!
            if !decodeChunks, consumed > 0 { return .success(.body(raw)) }
            var decoded = ByteBuffer()
            for range in data {
                decoded.writeImmutableBuffer(raw.getSlice(at: raw.readerIndex + range.lowerBound, length: range.count)!)
            }
            if decoded.readableBytes > 0 { return .success(.body(decoded)) }
            // Only framing in these bytes: the end, or more to come.
            if case .ended = state { return next(&buffer, requestMethod: requestMethod) }
            return .success(nil)
        case .untilClose:
            guard buffer.readableBytes > 0 else { return .success(nil) }
            return .success(.body(buffer.readSlice(length: buffer.readableBytes)!))
        case .switched:
            return .success(nil)
        case .ended:
            state = .head
            decodeChunks = false
            return .success(.end)
        }
    }

    /// The connection closed: the end of a body delimited by the close, or nil when a response was cut short (or
    /// none was under way).
    public mutating func closed() -> Part? {
        guard case .untilClose = state else { return nil }
        state = .head
        decodeChunks = false
        return .end
    }
}
