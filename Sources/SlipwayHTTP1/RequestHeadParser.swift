import NIOCore

/// Parses request heads in place, strictly (RFC 9110, RFC 9112), as they arrive on a connection.
///
/// It refuses what lets two parsers disagree about where a message ends or what it says: bare CR or LF, NUL and
/// other control bytes, obsolete line folding, whitespace before a field's colon, anything but one space between
/// the parts of the request line, a `Content-Length` that is not digits or disagrees with another, any
/// `Transfer-Encoding` but a single `chunked`, both framings at once, `Transfer-Encoding` on HTTP/1.0, more than
/// one `Host`, and an HTTP/1.1 request without one. Leading empty lines before a request line are skipped (RFC 9112
/// §2.2). Nothing is copied: the head keeps a slice of the connection's buffer and offsets into it.
public struct RequestHeadParser: Sendable {
    /// The longest request line, CRLF included; a longer one is refused with 414.
    public var maxRequestLineBytes: Int
    /// The largest head, request line and fields; a larger one is refused with 431.
    public var maxHeadBytes: Int
    private var scanner = HeadScanner()
    private var storage = FieldStorage()

    /// What one call to ``parse(_:)`` found.
    public enum Outcome: Sendable {
        /// More bytes are needed.
        case incomplete
        /// A head, now read from the buffer.
        case head(RequestHead)
        /// The bytes are not an acceptable request head; nothing more on the connection can be trusted.
        case invalid(HeadError)
    }

    /// A parser with the given limits.
    public init(maxRequestLineBytes: Int = 8 * 1024, maxHeadBytes: Int = 32 * 1024) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeadBytes = maxHeadBytes
    }

    /// Hands back the fields of a head the caller is done with, so the next head reuses their storage.
    public mutating func recycle(_ fields: consuming [HeaderField]) {
        storage.recycle(fields)
    }

    /// Looks for a complete head at the start of `buffer`'s readable bytes. On `.head` the head's bytes (and any
    /// empty lines before it) are read from `buffer`; otherwise `buffer` is left as it is. Call again with the same
    /// buffer once more bytes are appended to it.
    public mutating func parse(_ buffer: inout ByteBuffer) -> Outcome {
        if !scanner.started, !HeadScanner.skipEmptyLines(&buffer) { return .incomplete }
        let found: Result<Int?, HeadError> = buffer.withUnsafeReadableBytes {
            scanner.findEnd(in: $0, maxFirstLine: maxRequestLineBytes, maxHead: maxHeadBytes, kind: .request)
        }
        let end: Int
        switch found {
        case .failure(let error): return .invalid(error)
        case .success(nil): return .incomplete
        case .success(let found?): end = found
        }
        let lineEnd = scanner.firstLineEnd
        scanner = HeadScanner()
        var fields = storage.take()
        let bytes = buffer.readSlice(length: end)!
        let parsed = bytes.withUnsafeReadableBytes { head in
            Self.parseHead(head, requestLineEnd: lineEnd, fields: &fields)
        }
        switch parsed {
        case .failure(let error): return .invalid(error)
        case .success(var head):
            head.bytes = bytes
            head.fields = fields
            return .head(head)
        }
    }

    /// Validates a complete head and reads what the proxy needs from it.
    private static func parseHead(
        _ bytes: UnsafeRawBufferPointer,
        requestLineEnd: Int,
        fields: inout [HeaderField]
    ) -> Result<RequestHead, HeadError> {
        let classes = HTTPBytes.classes
        return classes.withUnsafeBufferPointer { classes in
            // The request line: method SP request-target SP HTTP-version CRLF.
            var index = 0
            while classes[Int(bytes[index])] & HTTPBytes.token != 0 { index += 1 }
            let methodRange = 0..<index
            guard !methodRange.isEmpty, bytes[index] == HTTPBytes.space else {
                return .failure(.badRequest("malformed request line"))
            }
            index += 1
            let targetStart = index
            while classes[Int(bytes[index])] & HTTPBytes.target != 0 { index += 1 }
            let targetRange = targetStart..<index
            guard !targetRange.isEmpty, bytes[index] == HTTPBytes.space else {
                return .failure(.badRequest("malformed request line"))
            }
            index += 1
            let versionStart = index
            let minor: Int
            switch Self.version(bytes, versionStart..<(requestLineEnd - 2)) {
            case .success(let found): minor = found
            case .failure(let error): return .failure(error)
            }
            let method = RequestMethod.of(bytes, methodRange)
            if method == .connect { return .failure(.badRequest("CONNECT is not served")) }
            let firstTargetByte = bytes[targetStart]
            if firstTargetByte != UInt8(ascii: "/") {
                let asterisk = targetRange.count == 1 && firstTargetByte == UInt8(ascii: "*") && method == .options
                if !asterisk, !Self.isAbsoluteURI(bytes, targetRange) {
                    return .failure(.badRequest("malformed request target"))
                }
            }

            // The fields.
            var summary = FieldSummary()
            if let error = FieldLines.parse(
                bytes,
                from: requestLineEnd,
                kind: .request,
                into: &fields,
                summary: &summary
            ) {
                return .failure(error)
            }

            let body: MessageBody
            switch summary.requestFraming(minorVersion: minor) {
            case .success(let found): body = found
            case .failure(let error): return .failure(error)
            }
            let keepAlive = minor == 0 ? summary.connectionKeepAlive : !summary.connectionClose
            return .success(
                RequestHead(
                    bytes: ByteBuffer(),
                    method: method,
                    methodRange: methodRange,
                    targetRange: targetRange,
                    versionStart: versionStart,
                    minorVersion: minor,
                    fields: [],
                    body: body,
                    keepAlive: keepAlive,
                    upgrade: summary.upgradeField && summary.connectionUpgrade && method == .get,
                    expectsContinue: summary.expectsContinue,
                    connectionNamesFields: summary.connectionNamesFields
                )
            )
        }
    }

    /// `HTTP/1.1` or `HTTP/1.0`: the minor version; another `HTTP/x.y` is unsupported, anything else malformed.
    private static func version(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Result<Int, HeadError> {
        guard range.count == 8, HTTPBytes.equalsIgnoringCase(bytes, range.lowerBound..<(range.lowerBound + 5), "http/"),
            bytes[range.lowerBound + 6] == UInt8(ascii: "."),
            (48...57).contains(bytes[range.lowerBound + 5]), (48...57).contains(bytes[range.lowerBound + 7])
        else { return .failure(.badRequest("malformed HTTP version")) }
        // The name is case-sensitive (RFC 9112 §2.3).
        for (offset, byte) in "HTTP/".utf8.enumerated() where bytes[range.lowerBound + offset] != byte {
            return .failure(.badRequest("malformed HTTP version"))
        }
        guard bytes[range.lowerBound + 5] == UInt8(ascii: "1") else { return .failure(.unsupportedVersion) }
        switch bytes[range.lowerBound + 7] {
        case UInt8(ascii: "1"): return .success(1)
        case UInt8(ascii: "0"): return .success(0)
        default: return .failure(.unsupportedVersion)
        }
    }

    /// An absolute-form target: `http://` or `https://` and an authority.
    private static func isAbsoluteURI(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for scheme: StaticString in ["http://", "https://"] {
            let prefix = range.lowerBound..<(range.lowerBound + scheme.utf8CodeUnitCount)
            if range.count > prefix.count, HTTPBytes.equalsIgnoringCase(bytes, prefix, scheme) { return true }
        }
        return false
    }
}
