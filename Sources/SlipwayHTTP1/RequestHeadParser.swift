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
    /// Where the search for the end of the head resumes: the start of the first line not yet complete.
    private var resumeAt = 0
    /// Whether the request line is complete.
    private var requestLineEnd = 0
    /// Storage for the fields of the next head, reused when a head's fields are handed back.
    private var spare: [HeaderField] = []

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
        var fields = fields
        fields.removeAll(keepingCapacity: true)
        if fields.capacity > spare.capacity { spare = fields }
    }

    /// Looks for a complete head at the start of `buffer`'s readable bytes. On `.head` the head's bytes (and any
    /// empty lines before it) are read from `buffer`; otherwise `buffer` is left as it is. Call again with the same
    /// buffer once more bytes are appended to it.
    public mutating func parse(_ buffer: inout ByteBuffer) -> Outcome {
        // Empty lines before a request (RFC 9112 §2.2), e.g. a CRLF a client sent after a body.
        if resumeAt == 0 {
            while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
                buffer.moveReaderIndex(forwardBy: 2)
            }
            if buffer.readableBytes == 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == HTTPBytes.cr {
                return .incomplete
            }
        }
        let found: Result<Int?, HeadError> = buffer.withUnsafeReadableBytes { findEnd(in: $0) }
        let end: Int
        switch found {
        case .failure(let error): return .invalid(error)
        case .success(nil): return .incomplete
        case .success(let found?): end = found
        }
        let lineEnd = requestLineEnd
        resumeAt = 0
        requestLineEnd = 0
        var fields = spare
        spare = []
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

    /// Finds the offset just past the empty line that ends the head, checking line endings and limits on the way.
    private mutating func findEnd(in bytes: UnsafeRawBufferPointer) -> Result<Int?, HeadError> {
        var lineStart = resumeAt
        var index = lineStart
        let count = bytes.count
        while index < count {
            guard let newline = Self.firstNewline(in: bytes, from: index) else {
                index = count
                break
            }
            guard newline > lineStart, bytes[newline - 1] == HTTPBytes.cr else {
                return .failure(.badRequest("bare LF in the request head"))
            }
            if requestLineEnd == 0 {
                if newline + 1 > maxRequestLineBytes { return .failure(.requestLineTooLong) }
                requestLineEnd = newline + 1
            } else if newline - 1 == lineStart {
                // The empty line.
                if newline + 1 > maxHeadBytes { return .failure(.headTooLarge) }
                return .success(newline + 1)
            }
            if newline + 1 > maxHeadBytes { return .failure(.headTooLarge) }
            lineStart = newline + 1
            index = lineStart
        }
        resumeAt = lineStart
        if requestLineEnd == 0, count > maxRequestLineBytes { return .failure(.requestLineTooLong) }
        if count > maxHeadBytes { return .failure(.headTooLarge) }
        return .success(nil)
    }

    @inline(__always)
    private static func firstNewline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == HTTPBytes.lf { return index }
            index += 1
        }
        return nil
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
            var summary = Summary()
            var lineStart = requestLineEnd
            while true {
                let first = bytes[lineStart]
                if first == HTTPBytes.cr {
                    // Every LF follows a CR, and the head ends at the first empty line: a CR starting any other line
                    // is a bare one.
                    guard bytes[lineStart + 1] == HTTPBytes.lf else {
                        return .failure(.badRequest("bare CR in the request head"))
                    }
                    break
                }
                if first == HTTPBytes.space || first == HTTPBytes.tab {
                    return .failure(.badRequest("obsolete line folding in the request head"))
                }
                index = lineStart
                while classes[Int(bytes[index])] & HTTPBytes.token != 0 { index += 1 }
                let name = lineStart..<index
                guard bytes[index] == HTTPBytes.colon, !name.isEmpty else {
                    if bytes[index] == HTTPBytes.space || bytes[index] == HTTPBytes.tab {
                        return .failure(.badRequest("whitespace before the colon of a header field"))
                    }
                    return .failure(.badRequest("malformed header field name"))
                }
                index += 1
                let valueStart = index
                while classes[Int(bytes[index])] & HTTPBytes.fieldValue != 0 { index += 1 }
                // The only byte that may end a value is the CR of a CRLF.
                guard bytes[index] == HTTPBytes.cr, bytes[index + 1] == HTTPBytes.lf else {
                    return .failure(.badRequest("invalid byte in a header field value"))
                }
                let value = HTTPBytes.trimmed(bytes, valueStart..<index)
                let known = KnownField.classify(bytes, name)
                if known != .other, let error = summary.note(known, value: value, raw: valueStart..<index, in: bytes) {
                    return .failure(error)
                }
                fields.append(HeaderField(name: name, value: value, lineEnd: index + 2, known: known))
                lineStart = index + 2
            }

            let body: MessageBody
            switch summary.framing(minorVersion: minor) {
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

/// What the fields the proxy knows say, gathered while parsing.
private struct Summary {
    var hosts = 0
    var contentLength: Int?
    var transferEncodings = 0
    var chunked = false
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    var connectionNamesFields = false
    var upgradeField = false
    var expectsContinue = false

    /// Takes in one known field; returns why the head is refused, if it is.
    mutating func note(
        _ known: KnownField,
        value: Range<Int>,
        raw: Range<Int>,
        in bytes: UnsafeRawBufferPointer
    ) -> HeadError? {
        // The framing fields are forwarded as they came, so they must read the same to every parser after this one:
        // a tab after `chunked` is a classic way to hide it from some of them.
        let trailingTab =
            (known == .contentLength || known == .transferEncoding)
            && bytes[value.upperBound..<raw.upperBound].contains(HTTPBytes.tab)
        switch known {
        case .host:
            hosts += 1
        case .contentLength:
            // A list of equal values is one value (RFC 9110 §8.6); anything but digits is refused.
            if trailingTab { return .badRequest("invalid Content-Length") }
            var start = value.lowerBound
            while start <= value.upperBound {
                var end = start
                while end < value.upperBound, bytes[end] != HTTPBytes.comma { end += 1 }
                let part = HTTPBytes.trimmed(bytes, start..<end)
                guard !part.isEmpty, part.count <= 18 else { return .badRequest("invalid Content-Length") }
                var length = 0
                for offset in part {
                    let digit = bytes[offset] &- 48
                    guard digit < 10 else { return .badRequest("invalid Content-Length") }
                    length = length * 10 + Int(digit)
                }
                if let contentLength, contentLength != length { return .badRequest("conflicting Content-Length") }
                contentLength = length
                start = end + 1
            }
        case .transferEncoding:
            transferEncodings += 1
            // Only exactly `chunked` (any case): `xchunked`, `chunked, identity`, `gzip, chunked` are refused.
            guard transferEncodings == 1, !trailingTab, HTTPBytes.equalsIgnoringCase(bytes, value, "chunked") else {
                return .badRequest("unsupported Transfer-Encoding")
            }
            chunked = true
        case .connection:
            var start = value.lowerBound
            while start < value.upperBound {
                var end = start
                while end < value.upperBound, bytes[end] != HTTPBytes.comma { end += 1 }
                let token = HTTPBytes.trimmed(bytes, start..<end)
                if HTTPBytes.equalsIgnoringCase(bytes, token, "close") {
                    connectionClose = true
                } else if HTTPBytes.equalsIgnoringCase(bytes, token, "keep-alive") {
                    connectionKeepAlive = true
                } else if HTTPBytes.equalsIgnoringCase(bytes, token, "upgrade") {
                    connectionUpgrade = true
                } else if !token.isEmpty {
                    connectionNamesFields = true
                }
                start = end + 1
            }
        case .upgrade:
            upgradeField = true
        case .expect:
            expectsContinue = HTTPBytes.equalsIgnoringCase(bytes, value, "100-continue")
        default:
            break
        }
        return nil
    }

    /// The body's framing, or why the head is refused.
    func framing(minorVersion: Int) -> Result<MessageBody, HeadError> {
        // HTTP/1.0 needs no Host, but two are ambiguous in any version (and the request is forwarded as HTTP/1.1).
        if hosts > 1 { return .failure(.badRequest("more than one Host header")) }
        if minorVersion == 1, hosts == 0 { return .failure(.badRequest("no Host header")) }
        if chunked {
            if contentLength != nil { return .failure(.badRequest("both Content-Length and Transfer-Encoding")) }
            if minorVersion == 0 { return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request")) }
            return .success(.chunked)
        }
        if let contentLength, contentLength > 0 { return .success(.length(contentLength)) }
        return .success(.none)
    }
}
