import SlipwayCore

/// A percentage from 0% to 100% with up to two decimals, written `25%` or `12.5%`.
public struct Percentage: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// Hundredths of a percent: 25% is 2500, 0.01% is 1.
    public var basisPoints: Int

    /// Creates a percentage from hundredths of a percent (0...10000).
    public init(basisPoints: Int) {
        self.basisPoints = basisPoints
    }

    /// Reads `25%`, `12.5%` or `0.01%`; nil for anything else, for more than two decimals and for values over 100%.
    public static func parse(_ text: String) -> Percentage? {
        guard text.hasSuffix("%"), let (number, rest) = DecimalNumber.prefix(of: text.dropLast()), rest.isEmpty,
            let basisPoints = number.scaled(by: 100), basisPoints <= 10_000
        else { return nil }
        return Percentage(basisPoints: Int(basisPoints))
    }

    /// Orders percentages by size.
    public static func < (lhs: Percentage, rhs: Percentage) -> Bool {
        lhs.basisPoints < rhs.basisPoints
    }

    /// `25%`, `12.5%`, `0.01%`.
    public var description: String {
        let whole = basisPoints / 100
        let hundredths = basisPoints % 100
        if hundredths == 0 {
            return "\(whole)%"
        }
        if hundredths % 10 == 0 {
            return "\(whole).\(hundredths / 10)%"
        }
        return "\(whole).\(hundredths < 10 ? "0" : "")\(hundredths)%"
    }
}
