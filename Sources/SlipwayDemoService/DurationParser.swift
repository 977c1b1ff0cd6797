/// Parses the human durations the demo service's knobs take: `250ms`, `2s`, `1m30s`, `1.5s`, `1h`.
///
/// A plain number without a unit means milliseconds. Units are `h`, `m`, `s` and `ms`; several may follow each
/// other (`1m30s`). Negative values and anything longer than ``maximum`` are rejected.
public enum DurationParser {
    /// The longest duration accepted.
    public static let maximum: Duration = .seconds(24 * 60 * 60)

    /// The duration `text` spells, or `nil` when it is not a valid duration.
    public static func parse(_ text: String) -> Duration? {
        let characters = Array(text.trimmingSpaces())
        guard !characters.isEmpty else { return nil }
        if let plain = Double(String(characters)) {
            return plain.isFinite ? milliseconds(plain) : nil
        }
        var totalMilliseconds = 0.0
        var index = 0
        while index < characters.count {
            let numberStart = index
            while index < characters.count, characters[index].isASCII,
                characters[index].isNumber || characters[index] == "."
            {
                index += 1
            }
            guard index > numberStart, let number = Double(String(characters[numberStart..<index])) else { return nil }
            let unitStart = index
            while index < characters.count, characters[index].isASCII, characters[index].isLetter {
                index += 1
            }
            guard let scale = unitMilliseconds(String(characters[unitStart..<index])) else { return nil }
            totalMilliseconds += number * scale
        }
        return milliseconds(totalMilliseconds)
    }

    private static func unitMilliseconds(_ unit: String) -> Double? {
        switch unit {
        case "ms": 1
        case "s": 1_000
        case "m": 60_000
        case "h": 3_600_000
        default: nil
        }
    }

    private static func milliseconds(_ value: Double) -> Duration? {
        guard value >= 0, value <= 24 * 3_600_000 else { return nil }
        return .microseconds((value * 1_000).rounded())
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
