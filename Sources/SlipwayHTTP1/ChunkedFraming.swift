/// Follows a `chunked` body (RFC 9112 §7.1) byte by byte as it streams past, so that the proxy can forward the
/// bytes as they are and still know, strictly, where the body ends.
///
/// Refused: a chunk size that is not hexadecimal or has more than 15 digits, anything after the size but a
/// `;` extension or CRLF, control bytes in an extension or a trailer, a chunk's data not followed by CRLF, bare
/// CR or LF, obsolete line folding in a trailer, and size lines or trailers larger than the limits.
public struct ChunkedFraming: Sendable {
    private enum State: Sendable {
        case size(digits: Int, value: Int)
        /// After a `;`: optional whitespace, then the extension's name.
        case extensionStart(value: Int)
        case extensionBytes(value: Int)
        case sizeLF(value: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        /// At the start of a trailer line, or of the empty line that ends the body.
        case trailerStart
        case trailerName(length: Int)
        case trailerValue
        case trailerLF
        case lastLF
        case done
    }

    /// What one call to ``consume(_:)`` found.
    public enum Progress: Equatable, Sendable {
        /// All the bytes offered belong to the body, which goes on.
        case more
        /// The body ended after this many of the bytes offered; the rest is the next message.
        case ended(consumed: Int)
        /// The bytes are not a valid chunked body.
        case invalid(String)
    }

    private var state = State.size(digits: 0, value: 0)
    /// Bytes in the current size line or trailer section, against the limits.
    private var lineBytes = 0
    private var trailerBytes = 0
    /// The longest chunk-size line, extensions included.
    public var maxSizeLineBytes: Int
    /// The largest trailer section.
    public var maxTrailerBytes: Int

    /// A framing at the start of a body.
    public init(maxSizeLineBytes: Int = 4096, maxTrailerBytes: Int = 32 * 1024) {
        self.maxSizeLineBytes = maxSizeLineBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Whether the whole body has been seen.
    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// The chunk data seen so far, in bytes: the body without its framing.
    public private(set) var dataBytes = 0

    /// Follows `bytes`, the next bytes of the connection.
    @inline(__always)
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Progress {
        consume(bytes) { _ in }
    }

    /// Follows `bytes`, the next bytes of the connection, calling `data` with where each run of chunk data lies in
    /// them (to take the framing off for a client that cannot read it).
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, data: (Range<Int>) -> Void) -> Progress {
        var index = 0
        let count = bytes.count
        while index < count {
            if case .data(let remaining) = state {
                // The data itself is not looked at.
                let taken = min(remaining, count - index)
                data(index..<(index + taken))
                dataBytes += taken
                index += taken
                state = remaining == taken ? .dataCR : .data(remaining: remaining - taken)
                continue
            }
            let byte = bytes[index]
            index += 1
            switch state {
            case .size(let digits, let value):
                if HTTPBytes.classes[Int(byte)] & HTTPBytes.hex != 0 {
                    guard digits < 15 else { return .invalid("chunk size too large") }
                    state = .size(digits: digits + 1, value: value << 4 | Self.hexValue(byte))
                } else if byte == HTTPBytes.lf {
                    return .invalid("bare LF in a chunk size line")
                } else if digits == 0 {
                    return .invalid("malformed chunk size")
                } else if byte == HTTPBytes.cr {
                    state = .sizeLF(value: value)
                } else if byte == HTTPBytes.semicolon {
                    state = .extensionStart(value: value)
                } else {
                    return .invalid("malformed chunk size")
                }
                if let error = countLine() { return error }
            case .extensionStart(let value):
                // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ): a name must follow.
                if HTTPBytes.classes[Int(byte)] & HTTPBytes.token != 0 {
                    state = .extensionBytes(value: value)
                } else if byte != HTTPBytes.space && byte != HTTPBytes.tab {
                    return .invalid("malformed chunk extension")
                }
                if let error = countLine() { return error }
            case .extensionBytes(let value):
                if byte == HTTPBytes.cr {
                    state = .sizeLF(value: value)
                } else if byte == HTTPBytes.lf || HTTPBytes.classes[Int(byte)] & HTTPBytes.fieldValue == 0 {
                    return .invalid("invalid byte in a chunk extension")
                }
                if let error = countLine() { return error }
            case .sizeLF(let value):
                guard byte == HTTPBytes.lf else { return .invalid("bare CR in a chunk size line") }
                lineBytes = 0
                state = value == 0 ? .trailerStart : .data(remaining: value)
            case .data:
                preconditionFailure("handled above")
            case .dataCR:
                guard byte == HTTPBytes.cr else { return .invalid("chunk data longer than its size") }
                state = .dataLF
            case .dataLF:
                guard byte == HTTPBytes.lf else { return .invalid("bare CR after chunk data") }
                state = .size(digits: 0, value: 0)
            case .trailerStart:
                if byte == HTTPBytes.cr {
                    state = .lastLF
                } else if HTTPBytes.classes[Int(byte)] & HTTPBytes.token != 0 {
                    state = .trailerName(length: 1)
                } else if byte == HTTPBytes.space || byte == HTTPBytes.tab {
                    return .invalid("obsolete line folding in a trailer")
                } else {
                    return .invalid("malformed trailer field")
                }
                if let error = countTrailer() { return error }
            case .trailerName(let length):
                if byte == HTTPBytes.colon {
                    state = .trailerValue
                } else if HTTPBytes.classes[Int(byte)] & HTTPBytes.token != 0 {
                    state = .trailerName(length: length + 1)
                } else {
                    return .invalid("malformed trailer field")
                }
                if let error = countTrailer() { return error }
            case .trailerValue:
                if byte == HTTPBytes.cr {
                    state = .trailerLF
                } else if HTTPBytes.classes[Int(byte)] & HTTPBytes.fieldValue == 0 {
                    return .invalid("invalid byte in a trailer field")
                }
                if let error = countTrailer() { return error }
            case .trailerLF:
                guard byte == HTTPBytes.lf else { return .invalid("bare CR in a trailer field") }
                state = .trailerStart
                if let error = countTrailer() { return error }
            case .lastLF:
                guard byte == HTTPBytes.lf else { return .invalid("bare CR at the end of a chunked body") }
                state = .done
                return .ended(consumed: index)
            case .done:
                return .ended(consumed: index - 1)
            }
        }
        if case .done = state { return .ended(consumed: 0) }
        return .more
    }

    private mutating func countLine() -> Progress? {
        lineBytes += 1
        return lineBytes > maxSizeLineBytes ? .invalid("chunk size line too long") : nil
    }

    private mutating func countTrailer() -> Progress? {
        trailerBytes += 1
        return trailerBytes > maxTrailerBytes ? .invalid("trailer section too large") : nil
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        default: return Int(byte - 87)
        }
    }
}
