/// The 10,000 buckets that requests fall into and versions own ranges of, one per basis point of traffic.
enum TrafficBucket {
    /// How many buckets there are: weights are in basis points, so 10000 is all traffic.
    static let count = 10_000

    /// A uniformly random bucket.
    static func random(using generator: inout some RandomNumberGenerator) -> Int {
        RoutingRandom.below(count, using: &generator)
    }

    /// The bucket a cookie value names: a decimal integer in 0...9999 and nothing else, or nil.
    static func parse(_ value: UnsafeBufferPointer<UInt8>) -> Int? {
        parseCookie(value)?.bucket
    }

    /// A stickiness cookie's value: `BUCKET.USER`, the bucket (a decimal integer in 0...9999) and the user's random
    /// id (16 hexadecimal digits), or `BUCKET` alone as earlier versions wrote it (then the bucket stands for the
    /// user); nil when it is neither.
    static func parseCookie(_ value: UnsafeBufferPointer<UInt8>) -> (bucket: Int, user: UInt64)? {
        var bucket = 0
        var index = 0
        while index < value.count, value[index] >= UInt8(ascii: "0"), value[index] <= UInt8(ascii: "9") {
            bucket = bucket * 10 + Int(value[index] - UInt8(ascii: "0"))
            guard bucket < count else { return nil }
            index += 1
        }
        guard index > 0 else { return nil }
        if index == value.count { return (bucket, UInt64(bucket)) }
        guard value[index] == UInt8(ascii: "."), value.count - index - 1 == 16 else { return nil }
        var user: UInt64 = 0
        for byte in value[(index + 1)...] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            user = user << 4 | UInt64(digit)
        }
        return (bucket, user)
    }

    /// The stickiness cookie's value for `bucket` and `user`: `BUCKET.USER`, the user as 16 hexadecimal digits.
    static func cookieValue(bucket: Int, user: UInt64) -> String {
        let hex = String(user, radix: 16)
        return "\(bucket)." + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// A bucket derived from a header value, the same in every process and release (see ``userKey(_:)``).
    static func hash(_ value: String) -> Int {
        bucket(ofUser: userKey(value))
    }

    /// The bucket of a user key.
    static func bucket(ofUser key: UInt64) -> Int {
        Int(key % UInt64(count))
    }

    /// A 64-bit key for a header value, the same in every process and release: FNV-1a 64 over the UTF-8 bytes, then a
    /// 64-bit finalizer so that values differing only in their last characters still spread evenly.
    static func userKey(_ value: String) -> UInt64 {
        RoutingBytes.of(value, userKey)
    }

    /// ``userKey(_:)-(String)`` of a value's bytes.
    static func userKey(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
