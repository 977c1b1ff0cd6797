import NIOCore

/// Whether a head is a request's or a response's, for the words of an error.
enum HeadKind: Sendable {
    case request
    case response

    var noun: String {
        switch self {
        case .request: return "request head"
        case .response: return "response head"
        }
    }
}

/// Finds where a head ends as its bytes arrive, checking line endings and size limits on the way, and resuming
/// where it stopped instead of scanning the same bytes again.
struct HeadScanner: Sendable {
    /// Where the search resumes: the start of the first line not yet complete.
    private var resumeAt = 0
    /// The offset just past the first line's CRLF, once it is complete; 0 before.
    private(set) var firstLineEnd = 0

    /// Whether any line of the head is complete.
    var started: Bool { firstLineEnd != 0 }

    /// Reads the empty lines (CRLF) before a head from `buffer` (RFC 9112 §2.2: a client may send one after a body,
    /// and some servers end a body with one too many); false while a lone CR at the end may be the start of another.
    static func skipEmptyLines(_ buffer: inout ByteBuffer) -> Bool {
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        return !(buffer.readableBytes == 1 && buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == HTTPBytes.cr)
    }

    /// The offset just past the empty line that ends the head in `bytes`, nil when it has not arrived.
    mutating func findEnd(
        in bytes: UnsafeRawBufferPointer,
        maxFirstLine: Int,
        maxHead: Int,
        kind: HeadKind
    ) -> Result<Int?, HeadError> {
        var lineStart = resumeAt
        let count = bytes.count
        while lineStart < count {
            var newline = lineStart
            while newline < count, bytes[newline] != HTTPBytes.lf { newline += 1 }
            guard newline < count else { break }
            guard newline > lineStart, bytes[newline - 1] == HTTPBytes.cr else {
                return .failure(kind == .request ? .badRequest("bare LF in the \(kind.noun)") : .badResponse("bare LF"))
            }
            if firstLineEnd == 0, newline + 1 > maxFirstLine { return .failure(.requestLineTooLong) }
            if newline + 1 > maxHead { return .failure(.headTooLarge) }
            if firstLineEnd == 0 {
                firstLineEnd = newline + 1
            } else if newline - 1 == lineStart {
                return .success(newline + 1)
            }
            lineStart = newline + 1
        }
        resumeAt = lineStart
        if firstLineEnd == 0, count > maxFirstLine { return .failure(.requestLineTooLong) }
        if count > maxHead { return .failure(.headTooLarge) }
        return .success(nil)
    }
}

/// The header field lines of a complete head, validated and read into offsets.
enum FieldLines {
    /// Reads the field lines from `start` to the empty line, appending each to `fields` and noting the ones the
    /// proxy knows in `summary`; returns why the head is refused, if it is.
    static func parse(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        kind: HeadKind,
        into fields: inout [HeaderField],
        summary: inout FieldSummary
    ) -> HeadError? {
        HTTPBytes.classes.withUnsafeBufferPointer { classes in
            var lineStart = start
            while true {
                let first = bytes[lineStart]
                if first == HTTPBytes.cr {
                    // Every LF follows a CR, and the head ends at the first empty line: a CR starting any other line
                    // is a bare one.
                    guard bytes[lineStart + 1] == HTTPBytes.lf else { return kind.error("bare CR in the \(kind.noun)") }
                    return nil
                }
                if first == HTTPBytes.space || first == HTTPBytes.tab {
                    return kind.error("obsolete line folding in the \(kind.noun)")
                }
                var index = lineStart
                while classes[Int(bytes[index])] & HTTPBytes.token != 0 { index += 1 }
                let name = lineStart..<index
                guard bytes[index] == HTTPBytes.colon, !name.isEmpty else {
                    if bytes[index] == HTTPBytes.space || bytes[index] == HTTPBytes.tab {
                        return kind.error("whitespace before the colon of a header field")
                    }
                    return kind.error("malformed header field name")
                }
                index += 1
                let valueStart = index
                while classes[Int(bytes[index])] & HTTPBytes.fieldValue != 0 { index += 1 }
                // The only byte that may end a value is the CR of a CRLF.
                guard bytes[index] == HTTPBytes.cr, bytes[index + 1] == HTTPBytes.lf else {
                    return kind.error("invalid byte in a header field value")
                }
                let value = HTTPBytes.trimmed(bytes, valueStart..<index)
                let known = KnownField.classify(bytes, name)
                if known != .other,
                    let error = summary.note(known, value: value, raw: valueStart..<index, in: bytes, kind: kind)
                {
                    return error
                }
                fields.append(HeaderField(name: name, value: value, lineEnd: index + 2, known: known))
                lineStart = index + 2
            }
        }
    }
}

extension HeadKind {
    /// The error for a malformed head of this kind.
    func error(_ reason: String) -> HeadError {
        switch self {
        case .request: return .badRequest(reason)
        case .response: return .badResponse(reason)
        }
    }
}
