import NIOCore

/// Byte classes of RFC 9110 and RFC 9112, looked up in one table.
enum HTTPBytes {
    /// `tchar`: the bytes of a token (method, field name).
    static let token: UInt8 = 1
    /// Bytes allowed in a field value after its first byte: `VCHAR`, `obs-text`, space and tab.
    static let fieldValue: UInt8 = 2
    /// Bytes allowed in a request target: visible ASCII.
    static let target: UInt8 = 4
    /// Hexadecimal digits.
    static let hex: UInt8 = 8

    static let classes: [UInt8] = (0...255).map { (byte: Int) -> UInt8 in
        var flags: UInt8 = 0
        let isAlpha = (65...90).contains(byte) || (97...122).contains(byte)
        let isDigit = (48...57).contains(byte)
        if isAlpha || isDigit || "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte)) { flags |= token }
        if (0x21...0x7E).contains(byte) || byte >= 0x80 || byte == 0x20 || byte == 0x09 { flags |= fieldValue }
        if (0x21...0x7E).contains(byte) { flags |= target }
        if isDigit || (65...70).contains(byte) || (97...102).contains(byte) { flags |= hex }
        return flags
    }

    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let comma: UInt8 = 44
    static let semicolon: UInt8 = 59

    /// Whether `bytes[range]` equals `lowercase` ignoring ASCII case; `lowercase` must be lowercase ASCII.
    @inline(__always)
    static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer,
        _ range: Range<Int>,
        _ lowercase: StaticString
    )
        -> Bool
    {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let literal = lowercase.utf8Start
        var index = 0
        for offset in range {
            // Upper-case letters fold to lower case; every other byte must be equal as it is.
            if lower(bytes[offset]) != literal[index] { return false }
            index += 1
        }
        return true
    }

    /// `range` without leading and trailing spaces and tabs.
    @inline(__always)
    static func trimmed(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == space || bytes[lower] == tab { lower += 1 }
        while upper > lower, bytes[upper - 1] == space || bytes[upper - 1] == tab { upper -= 1 }
        return lower..<upper
    }
}

extension HTTPBytes {
    /// An ASCII letter in lower case; any other byte as it is.
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }
}

extension HTTPBytes {
    /// Whether two ranges of the same bytes are equal ignoring ASCII case.
    static func equalIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ left: Range<Int>, _ right: Range<Int>) -> Bool {
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where lower(bytes[a]) != lower(bytes[b]) { return false }
        return true
    }
}

extension HTTPBytes {
    /// Calls `body` with each item of a comma-separated field value (RFC 9110 §5.6.1), trimmed of whitespace and
    /// in order; empty items too (`a,,b`, a trailing comma, an empty value), for the caller to judge. Stops when
    /// `body` returns false.
    static func forEachListItem(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>, _ body: (Range<Int>) -> Bool) {
        var start = value.lowerBound
        while start <= value.upperBound {
            var end = start
            while end < value.upperBound, bytes[end] != comma { end += 1 }
            guard body(trimmed(bytes, start..<end)) else { return }
            start = end + 1
        }
    }

    /// What one `Connection` token asks for.
    enum ConnectionOption {
        case close, keepAlive, upgrade
        /// A field name: that field is for this connection only.
        case field
        case empty
    }

    /// The meaning of the `Connection` token at `token`.
    static func connectionOption(_ bytes: UnsafeRawBufferPointer, _ token: Range<Int>) -> ConnectionOption {
        if token.isEmpty { return .empty }
        if equalsIgnoringCase(bytes, token, "close") { return .close }
        if equalsIgnoringCase(bytes, token, "keep-alive") { return .keepAlive }
        if equalsIgnoringCase(bytes, token, "upgrade") { return .upgrade }
        return .field
    }

    /// The field names `Connection` lists besides `close`, `keep-alive` and `upgrade`.
    static func connectionNames(_ fields: [HeaderField], _ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        var names: [Range<Int>] = []
        for field in fields where field.known == .connection {
            forEachListItem(bytes, field.value) { token in
                if connectionOption(bytes, token) == .field { names.append(token) }
                return true
            }
        }
        return names
    }
}

extension HTTPBytes {
    /// Writes a head's field lines, from `start` up to its empty line, leaving out those `keep` refuses: the lines
    /// between them are copied in runs, as they are.
    static func writeFields(
        _ fields: [HeaderField],
        from start: Int,
        of bytes: UnsafeRawBufferPointer,
        into out: inout ByteBuffer,
        keep: (HeaderField) -> Bool
    ) {
        var runStart = start
        for field in fields where !keep(field) {
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<field.line.lowerBound]))
            runStart = field.line.upperBound
        }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<(bytes.count - 2)]))
    }
}
