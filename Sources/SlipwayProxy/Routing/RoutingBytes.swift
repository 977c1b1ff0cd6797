/// UTF-8 bytes of request strings, read in place.
///
/// Scanning a contiguous buffer is several times faster than walking `String.UTF8View` indices, and the strings NIO
/// decodes from the wire are always contiguous, so the fallback copy is for strings bridged from elsewhere.
enum RoutingBytes {
    /// Calls `body` with the UTF-8 bytes of `string`.
    @inline(__always)
    static func of<Result>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var copy = string
        return copy.withUTF8(body)
    }

    /// Whether two byte sequences are equal.
    @inline(__always)
    static func equal(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs[index] != rhs[index] {
            return false
        }
        return true
    }

    /// Whether `byte` is optional whitespace (space or horizontal tab) in a header value.
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
