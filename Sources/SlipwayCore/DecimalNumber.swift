/// A non-negative decimal number read exactly from text such as `12`, `1.5` or `.25`.
///
/// Durations, percentages and sizes are scaled integers; reading them through `Double` would round
/// values like `0.1s`, so the digits are kept and scaled exactly.
package struct DecimalNumber: Equatable {
    /// The digits before the decimal point, as a number.
    var whole: Int128
    /// The digits after the decimal point, as written (trailing zeros included).
    var fraction: Substring

    /// Reads the longest decimal number at the start of `text`; returns it and the rest of the text.
    /// Fails when `text` does not start with a digit or `.` followed by a digit.
    package static func prefix(of text: Substring) -> (number: DecimalNumber, rest: Substring)? {
        let wholeDigits = text.prefix(while: \.isASCIIDigit)
        var rest = text[wholeDigits.endIndex...]
        var fraction: Substring = ""
        if rest.first == "." {
            fraction = rest.dropFirst().prefix(while: \.isASCIIDigit)
            guard !fraction.isEmpty else { return nil }
            rest = rest[fraction.endIndex...]
        }
        guard !wholeDigits.isEmpty || !fraction.isEmpty else { return nil }
        // 30 digits is far past any value these formats accept, and keeps Int128 from overflowing.
        guard wholeDigits.count <= 30 else { return nil }
        return (DecimalNumber(whole: Int128(wholeDigits) ?? 0, fraction: fraction), rest)
    }

    /// `self × scale`, exactly when possible; nil when the fraction has more digits than `scale` can absorb
    /// without rounding, or when the result does not fit.
    package func scaled(by scale: Int128) -> Int128? {
        let (product, overflow) = whole.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var fractionValue: Int128 = 0
        var divisor: Int128 = 1
        for digit in fraction {
            guard divisor <= 1_000_000_000_000_000_000 else { return nil }
            fractionValue = fractionValue * 10 + Int128(digit.wholeNumberValue ?? 0)
            divisor *= 10
        }
        let (numerator, fractionOverflow) = fractionValue.multipliedReportingOverflow(by: scale)
        guard !fractionOverflow, numerator % divisor == 0 else { return nil }
        let (sum, sumOverflow) = product.addingReportingOverflow(numerator / divisor)
        return sumOverflow ? nil : sum
    }
}
