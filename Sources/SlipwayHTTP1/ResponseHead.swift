import NIOCore

/// A response head as an instance sent it: its bytes, untouched, and the offsets of what the proxy reads in them.
public struct ResponseHead: Sendable {
    /// The head from the first byte of the status line to the empty line that ends it, CRLF included.
    public var bytes: ByteBuffer
    /// The status code.
    public var status: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Where the fields start: just past the status line's CRLF.
    public var fieldsStart: Int
    /// The header fields, in order.
    public var fields: [HeaderField]
    /// How the body is delimited, given the request this response answers.
    public var body: MessageBody
    /// The instance keeps the connection open after this response.
    public var keepAlive: Bool
    /// `Connection` names fields other than `close`, `keep-alive` and `upgrade`, which must not be forwarded.
    public var connectionNamesFields: Bool

    /// Whether this is an interim response (1xx other than 101): the final one follows.
    public var isInterim: Bool { status < 200 && status != 101 }

    /// The text of a range of the head.
    public func text(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// The values of the fields the proxy knows as `known`, as text.
    public func values(of known: KnownField) -> [String] {
        fields.filter { $0.known == known }.map { text($0.value) }
    }
}

/// Parses response heads in place as an instance's bytes arrive. As strict as the request side about what makes
/// framing ambiguous (bare CR or LF, obsolete folding, control bytes, malformed or conflicting `Content-Length`,
/// both framings at once), because a response misread leaves the pooled connection out of step with its requests.
public struct ResponseHeadParser: Sendable {
    /// The largest head; a larger one is refused.
    public var maxHeadBytes: Int
    private var scanner = HeadScanner()
    private var storage = FieldStorage()

    /// What one call to ``parse(_:requestMethod:)`` found.
    public enum Outcome: Sendable {
        case incomplete
        case head(ResponseHead)
        case invalid(HeadError)
    }

    /// A parser with the given limit.
    public init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    /// Hands back the fields of a head the caller is done with, so the next head reuses their storage.
    public mutating func recycle(_ fields: consuming [HeaderField]) {
        storage.recycle(fields)
    }

    /// Looks for a complete head at the start of `buffer`'s readable bytes, answering a request made with
    /// `requestMethod`. On `.head` the head's bytes are read from `buffer`; otherwise it is left as it is.
    public mutating func parse(_ buffer: inout ByteBuffer, requestMethod: RequestMethod) -> Outcome {
        if !scanner.started, !HeadScanner.skipEmptyLines(&buffer) { return .incomplete }
        let found: Result<Int?, HeadError> = buffer.withUnsafeReadableBytes {
            scanner.findEnd(in: $0, maxFirstLine: maxHeadBytes, maxHead: maxHeadBytes, kind: .response)
        }
        let end: Int
        switch found {
        case .failure(.headTooLarge): return .invalid(.badResponse("response head too large"))
        case .failure(let error): return .invalid(error)
        case .success(nil): return .incomplete
        case .success(let found?): end = found
        }
        let lineEnd = scanner.firstLineEnd
        scanner = HeadScanner()
        let bytes = buffer.readSlice(length: end)!
        var fields = storage.take()
        let parsed = bytes.withUnsafeReadableBytes { head in
            Self.parseHead(head, statusLineEnd: lineEnd, requestMethod: requestMethod, fields: &fields)
        }
        switch parsed {
        case .failure(let error): return .invalid(error)
        case .success(var head):
            head.bytes = bytes
            head.fields = fields
            return .head(head)
        }
    }

    private static func parseHead(
        _ bytes: UnsafeRawBufferPointer,
        statusLineEnd: Int,
        requestMethod: RequestMethod,
        fields: inout [HeaderField]
    ) -> Result<ResponseHead, HeadError> {
        // HTTP/1.x SP 3DIGIT [SP reason] CRLF; the reason may be empty, and some servers leave out its space.
        let line = 0..<(statusLineEnd - 2)
        guard line.count >= 12, HTTPBytes.equalsIgnoringCase(bytes, 0..<7, "http/1."), bytes[8] == HTTPBytes.space
        else { return .failure(.badResponse("malformed status line")) }
        let minor: Int
        switch bytes[7] {
        case UInt8(ascii: "1"): minor = 1
        case UInt8(ascii: "0"): minor = 0
        default: return .failure(.badResponse("unsupported HTTP version"))
        }
        var status = 0
        for offset in 9..<12 {
            let digit = bytes[offset] &- 48
            guard digit < 10 else { return .failure(.badResponse("malformed status code")) }
            status = status * 10 + Int(digit)
        }
        guard status >= 100 else { return .failure(.badResponse("malformed status code")) }
        if line.count > 12 {
            guard bytes[12] == HTTPBytes.space else { return .failure(.badResponse("malformed status line")) }
            for offset in 13..<line.upperBound where HTTPBytes.classes[Int(bytes[offset])] & HTTPBytes.fieldValue == 0 {
                return .failure(.badResponse("invalid byte in the reason phrase"))
            }
        }
        var summary = FieldSummary()
        if let error = FieldLines.parse(bytes, from: statusLineEnd, kind: .response, into: &fields, summary: &summary) {
            return .failure(error)
        }
        let body: MessageBody
        switch summary.responseFraming(status: status, requestMethod: requestMethod) {
        case .success(let found): body = found
        case .failure(let error): return .failure(error)
        }
        return .success(
            ResponseHead(
                bytes: ByteBuffer(),
                status: status,
                minorVersion: minor,
                fieldsStart: statusLineEnd,
                fields: [],
                body: body,
                keepAlive: minor == 0 ? summary.connectionKeepAlive : !summary.connectionClose,
                connectionNamesFields: summary.connectionNamesFields
            )
        )
    }
}
