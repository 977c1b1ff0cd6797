/// Header field names compared the way HTTP requires, byte by byte, so routing never lowercases strings per request.
enum RoutingHeaderNames {
    /// Whether two header field names are equal ignoring ASCII case.
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return RoutingBytes.of(lhs) { left in
            RoutingBytes.of(rhs) { right in
                for index in 0..<left.count where lowercased(left[index]) != lowercased(right[index]) {
                    return false
                }
                return true
            }
        }
    }

    @inline(__always)
    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
