import NIOCore

/// The requests on one client connection, read from its bytes as they arrive: each head, its body's bytes as they
/// came (a chunked body keeps its chunk framing, for the instance to read), and its end.
public struct RequestStream: Sendable {
    /// One piece of a request.
    public enum Part: Sendable {
        case head(RequestHead)
        /// Body bytes, forwarded as they are.
        case body(ByteBuffer)
        /// The request is complete; the next bytes are the next request.
        case end
    }

    private enum State: Sendable {
        case head
        case length(remaining: Int)
        case chunked(ChunkedFraming)
        case ended
    }

    private var parser: RequestHeadParser
    private var state = State.head
    private let maxTrailerBytes: Int

    /// A stream with the given head limits (chunked trailers get the head's limit).
    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeadBytes: Int = 32 * 1024) {
        parser = RequestHeadParser(maxRequestLineBytes: maxRequestLineBytes, maxHeadBytes: maxHeadBytes)
        maxTrailerBytes = maxHeadBytes
    }

    /// Whether a request's head has been read and its end has not.
    public var inRequest: Bool {
        switch state {
        case .head: return false
        case .length, .chunked, .ended: return true
        }
    }

    /// Hands back a finished head's field storage for the next head.
    public mutating func recycle(_ fields: consuming [HeaderField]) {
        parser.recycle(fields)
    }

    /// The next part found at the start of `buffer`, read from it; nil when more bytes are needed. An error means
    /// the connection's bytes can no longer be trusted: answer it and close.
    public mutating func next(_ buffer: inout ByteBuffer) -> Result<Part?, HeadError> {
        switch state {
        case .head:
            switch parser.parse(&buffer) {
            case .incomplete: return .success(nil)
            case .invalid(let error): return .failure(error)
            case .head(let head):
                switch head.body {
                case .none, .untilClose: state = .ended
                case .length(let length): state = .length(remaining: length)
                case .chunked: state = .chunked(ChunkedFraming(maxTrailerBytes: maxTrailerBytes))
                }
                return .success(.head(head))
            }
        case .length(let remaining):
            guard let (body, left) = buffer.readBody(upTo: remaining) else { return .success(nil) }
            state = left == 0 ? .ended : .length(remaining: left)
            return .success(.body(body))
        case .chunked(var framing):
            guard buffer.readableBytes > 0 else { return .success(nil) }
            let progress = buffer.withUnsafeReadableBytes { framing.consume($0) }
            switch progress {
            case .more:
                state = .chunked(framing)
                return .success(.body(buffer.readSlice(length: buffer.readableBytes)!))
            case .ended(let consumed):
                state = .ended
                if consumed == 0 { return next(&buffer) }
                return .success(.body(buffer.readSlice(length: consumed)!))
            case .invalid(let reason):
                return .failure(.badRequest(reason))
            }
        case .ended:
            state = .head
            return .success(.end)
        }
    }
}

extension ByteBuffer {
    /// Reads up to `remaining` bytes of a body of known length: the bytes, and how many are still to come; nil when
    /// no byte is here yet.
    mutating func readBody(upTo remaining: Int) -> (body: ByteBuffer, left: Int)? {
        guard readableBytes > 0 else { return nil }
        let taken = Swift.min(remaining, readableBytes)
        return (readSlice(length: taken)!, remaining - taken)
    }
}
