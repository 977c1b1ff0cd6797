/// Reads and writes durations such as `250ms`, `2s`, `1m30s`, `1h` or `1.5s`.
///
/// A duration is one or more number-and-unit parts with units in decreasing order: `h`, `m`, `s`,
/// `ms` and `us` (or `µs`). Numbers may have a fraction. `0` is the only number accepted without a unit.
/// Negative durations are not accepted.
public enum DurationText {
    /// The units, largest first, with their length in nanoseconds.
    static let units: [(symbol: String, nanoseconds: Int128)] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("µs", 1_000),
    ]

    /// The duration written in `text`, or nil when it is not a valid duration.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" {
            return .zero
        }
        var rest = Substring(text)
        var total: Int128 = 0
        var previousUnit = -1
        while !rest.isEmpty {
            guard let (number, afterNumber) = DecimalNumber.prefix(of: rest) else { return nil }
            let symbol = afterNumber.prefix(while: { !$0.isASCIIDigit && $0 != "." })
            // µs is a spelling of us, so it ranks with it.
            guard let unit = units.firstIndex(where: { $0.symbol == symbol }) else { return nil }
            let rank = min(unit, 4)
            guard rank > previousUnit else { return nil }
            previousUnit = rank
            guard let nanoseconds = number.scaled(by: units[unit].nanoseconds) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(nanoseconds)
            guard !overflow, sum <= Int128(Int64.max) else { return nil }
            total = sum
            rest = afterNumber[symbol.endIndex...]
        }
        guard previousUnit >= 0 else { return nil }
        return .nanoseconds(Int64(total))
    }

    /// Writes `duration` the way `parse` reads it: `1m30s`, `250ms`, `2s`, `1.5s`, `0s`.
    ///
    /// Precision below a nanosecond is dropped.
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = nanosecondCount(of: duration)
        if nanoseconds < 0 {
            return "-" + format(.nanoseconds(Int64(-nanoseconds)))
        }
        if nanoseconds == 0 {
            return "0s"
        }
        if nanoseconds < 1_000_000 {
            return decimal(nanoseconds, over: 1_000) + "us"
        }
        if nanoseconds < 1_000_000_000 {
            return decimal(nanoseconds, over: 1_000_000) + "ms"
        }
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let seconds = nanoseconds % 60_000_000_000
        var text = ""
        if hours > 0 {
            text += "\(hours)h"
        }
        if minutes > 0 {
            text += "\(minutes)m"
        }
        if seconds > 0 {
            text += decimal(seconds, over: 1_000_000_000) + "s"
        }
        return text
    }

    /// The whole number of nanoseconds in `duration`, rounded toward zero.
    package static func nanosecondCount(of duration: Duration) -> Int128 {
        let (seconds, attoseconds) = duration.components
        return Int128(seconds) * 1_000_000_000 + Int128(attoseconds / 1_000_000_000)
    }

    /// `value / unit` as a decimal without trailing zeros, like `1.5`.
    private static func decimal(_ value: Int128, over unit: Int128) -> String {
        let whole = value / unit
        var remainder = value % unit
        guard remainder > 0 else { return "\(whole)" }
        var digits = ""
        var place = unit / 10
        while remainder > 0 && place > 0 {
            digits += "\(remainder / place)"
            remainder %= place
            place /= 10
        }
        return "\(whole).\(digits)"
    }
}
