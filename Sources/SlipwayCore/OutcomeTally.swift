/// What the responses of one version reported of one outcome through the `X-Slipway-Outcome` response header.
///
/// Every response is a unit whose value is the sum of the outcome's values it carried (a bare name counts 1, so
/// `converted` makes a conversion rate and `revenue=12.5` a mean revenue per response); a response without the
/// outcome counts 0. The tally keeps only what the mean and the variance need, and adds and subtracts like the
/// proxy's other cumulative counters.
public struct OutcomeTally: Sendable, Equatable, Codable {
    /// Responses that carried the outcome.
    public var responses: Int
    /// The sum of their values.
    public var sum: Double
    /// The sum of their squared values.
    public var sumOfSquares: Double

    /// A tally.
    public init(responses: Int = 0, sum: Double = 0, sumOfSquares: Double = 0) {
        self.responses = responses
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    /// The largest magnitude of a response's value that is counted. Beyond it a value is ignored, so that squares and
    /// sums stay finite (a non-finite tally could not be subtracted or sent as JSON) and precise enough.
    public static let largestValue = 1e9

    /// One more response whose values of the outcome add up to `value`; a value that is not finite or beyond
    /// ``largestValue`` is not counted.
    public mutating func record(_ value: Double) {
        guard value.isFinite, abs(value) <= Self.largestValue else { return }
        responses += 1
        sum += value
        sumOfSquares += value * value
    }

    /// Both tallies together.
    public func adding(_ other: OutcomeTally) -> OutcomeTally {
        OutcomeTally(
            responses: responses + other.responses,
            sum: sum + other.sum,
            sumOfSquares: sumOfSquares + other.sumOfSquares
        )
    }

    /// What this cumulative tally gained since `earlier`; nothing when it holds less (a replaced recorder).
    public func subtracting(_ earlier: OutcomeTally) -> OutcomeTally {
        guard responses >= earlier.responses else { return self }
        return OutcomeTally(
            responses: responses - earlier.responses,
            sum: sum - earlier.sum,
            sumOfSquares: max(0, sumOfSquares - earlier.sumOfSquares)
        )
    }

    /// Whether `name` is an outcome's name: 1 to 64 ASCII letters, digits, `_`, `-` or `.` (as the app writes it in
    /// `X-Slipway-Outcome`, and as a goal names it).
    public static func isName(_ name: some StringProtocol) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
                    true
                default:
                    false
                }
            }
    }
}
