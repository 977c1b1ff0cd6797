import SlipwayCore

/// Reads and writes sizes in bytes: `4096`, `512KiB`, `10MiB`, `1MB`, `1.5GiB`.
///
/// `KiB`, `MiB`, `GiB` and `TiB` are powers of 1024; `kB` (or `KB`), `MB`, `GB` and `TB` are powers of 1000;
/// `B` or no unit means bytes. The result must be a whole number of bytes.
public enum ByteSize {
    /// The units with their size in bytes, binary units first so that `format` prefers them.
    static let units: [(symbol: String, bytes: Int128)] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("TB", 1_000_000_000_000),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("kB", 1_000),
        ("KB", 1_000),
        ("B", 1),
        ("", 1),
    ]

    /// The number of bytes written in `text`, or nil when it is not a valid size.
    public static func parse(_ text: String) -> Int? {
        guard let (number, symbol) = DecimalNumber.prefix(of: Substring(text)),
            let unit = units.first(where: { $0.symbol == symbol }),
            let bytes = number.scaled(by: unit.bytes), bytes <= Int128(Int.max)
        else { return nil }
        return Int(bytes)
    }

    /// Writes `bytes` with the largest unit that divides it exactly: `10MiB`, `1MB`, `4097`.
    public static func format(_ bytes: Int) -> String {
        guard bytes > 0 else { return "\(bytes)" }
        for unit in units where unit.bytes > 1 && Int128(bytes) % unit.bytes == 0 {
            return "\(Int128(bytes) / unit.bytes)\(unit.symbol)"
        }
        return "\(bytes)"
    }
}
