/// Comparison of secrets whose running time does not depend on where they differ, so that timing the
/// answers cannot reveal a secret one byte at a time.
enum ConstantTime {
    /// Whether `lhs` and `rhs` hold the same bytes. Every byte of the longer one is visited, whatever the
    /// contents; only the lengths shape the running time.
    static func equals(_ lhs: some Sequence<UInt8>, _ rhs: some Sequence<UInt8>) -> Bool {
        let left = Array(lhs)
        let right = Array(rhs)
        var difference: UInt8 = left.count == right.count ? 0 : 1
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }

    /// Whether the UTF-8 bytes of `lhs` and `rhs` are the same (see `equals(_:_:)` for byte sequences).
    static func equals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        equals(lhs.utf8, rhs.utf8)
    }
}
