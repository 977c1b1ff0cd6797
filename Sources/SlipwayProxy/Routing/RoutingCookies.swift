import NIOHTTP1

/// Finds one cookie in a request's `Cookie` header fields, reading their bytes in place.
enum RoutingCookies {
    /// Calls `body` with the value of the first cookie called `name`; nil when the request carries no such cookie.
    static func value<Result>(
        named name: String,
        in headers: some RoutingFields,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        RoutingBytes.of(name) { name in
            headers.firstValue(named: "cookie") { field in
                valueRange(named: name, inField: field).map { body(UnsafeBufferPointer(rebasing: field[$0])) }
            }
        }
    }

    /// Where the value of the first `name=value` pair in one `Cookie` field value (`a=1; b=2`) lies.
    static func valueRange(
        named name: UnsafeBufferPointer<UInt8>,
        inField field: UnsafeBufferPointer<UInt8>
    ) -> Range<Int>? {
        var pairStart = 0
        while pairStart < field.count {
            var pairEnd = pairStart
            while pairEnd < field.count, field[pairEnd] != UInt8(ascii: ";") {
                pairEnd += 1
            }
            let pair = trimmed(pairStart..<pairEnd, in: field)
            var equals = pair.lowerBound
            while equals < pair.upperBound, field[equals] != UInt8(ascii: "=") {
                equals += 1
            }
            if equals < pair.upperBound,
                RoutingBytes.equal(
                    UnsafeBufferPointer(rebasing: field[trimmed(pair.lowerBound..<equals, in: field)]),
                    name
                )
            {
                return trimmed((equals + 1)..<pair.upperBound, in: field)
            }
            pairStart = pairEnd + 1
        }
        return nil
    }

    /// Whether `name` can be written as a cookie name: a non-empty HTTP token (RFC 6265, section 4.1.1).
    static func isValidName(_ name: String) -> Bool {
        !name.utf8.isEmpty && name.utf8.allSatisfy(isTokenByte)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func trimmed(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end, RoutingBytes.isWhitespace(bytes[start]) {
            start += 1
        }
        while end > start, RoutingBytes.isWhitespace(bytes[end - 1]) {
            end -= 1
        }
        return start..<end
    }
}
