import Foundation
import SlipwayCore

/// Count, sum and sum of squares of one variant's units (requests) for one goal: all the mean and variance need.
public struct UnitSums: Sendable, Equatable, Codable {
    /// Units measured.
    public var count: Int
    /// The sum of their values.
    public var sum: Double
    /// The sum of their squared values.
    public var sumOfSquares: Double

    /// Sums.
    public init(count: Int = 0, sum: Double = 0, sumOfSquares: Double = 0) {
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    /// The sums of a tally the proxy kept, over `count` units (default: the responses it counted); units without a
    /// value count 0.
    public init(_ tally: OutcomeTally, count: Int? = nil) {
        self.init(count: count ?? tally.responses, sum: tally.sum, sumOfSquares: tally.sumOfSquares)
    }

    /// Both together.
    public static func + (left: UnitSums, right: UnitSums) -> UnitSums {
        UnitSums(
            count: left.count + right.count,
            sum: left.sum + right.sum,
            sumOfSquares: left.sumOfSquares + right.sumOfSquares
        )
    }

    /// The mean; nil without units.
    public var mean: Double? { count > 0 ? sum / Double(count) : nil }

    /// The unbiased sample variance; nil below two units.
    public var variance: Double? {
        guard count > 1 else { return nil }
        let n = Double(count)
        let mean = sum / n
        return max(0, (sumOfSquares - n * mean * mean) / (n - 1))
    }
}

/// An anytime-valid comparison of two means, B − A: the mixture sequential probability ratio test of Johari et al.
/// ("Peeking at A/B Tests", KDD 2017) in the form of the asymptotic confidence sequence of Waudby-Smith et al.
/// ("Time-uniform central limit theory and asymptotic confidence sequences", Annals of Statistics 2024), which
/// GrowthBook and PostHog use.
///
/// With θ̂ the difference of the sample means, V = s²_A/n_A + s²_B/n_B its variance and N = n_A + n_B, the e-value
/// for "no difference" is e = exp((θ̂²/V) · Nρ² / (2(1 + Nρ²))) / √(1 + Nρ²), and the values θ for which the same
/// formula at θ̂ − θ stays below 1/α form a (1 − α) confidence sequence: θ̂ ± √(V (1 + Nρ²)/(Nρ²) (2 log(1/α) +
/// log(1 + Nρ²))). It may be looked at after every unit. ρ² = (−2 log α + log(1 − 2 log α)) / N* makes the
/// interval narrowest near N* units in all. The guarantee rests on the central limit theorem, so no verdict is
/// given below ``minimumUnits`` units per variant.
public struct MeanDifference: Sendable, Equatable {
    /// The fewest units per variant before the normal approximation is trusted.
    public static let minimumUnits = 100

    /// The level (two-sided).
    public let alpha: Double
    /// ρ², from the expected total sample size.
    public let rhoSquared: Double

    /// A comparison at level `alpha`, tuned for `expectedUnits` units over both variants.
    public init(alpha: Double, expectedUnits: Int) {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), not \(alpha)")
        self.alpha = alpha
        let logAlpha = log(alpha)
        rhoSquared = (-2 * logAlpha + log(1 - 2 * logAlpha)) / Double(max(expectedUnits, 1))
    }

    /// What the data say about B − A.
    public struct Estimate: Sendable, Equatable {
        /// B's mean minus A's.
        public var difference: Double
        /// The confidence sequence for the difference at this moment.
        public var lower: Double
        public var upper: Double
        /// The e-value against "no difference".
        public var eValue: Double
    }

    /// The estimate from both variants' sums; nil below the minimum sample or without any spread in the data.
    public func estimate(control: UnitSums, variant: UnitSums) -> Estimate? {
        guard control.count >= Self.minimumUnits, variant.count >= Self.minimumUnits,
            let meanA = control.mean, let meanB = variant.mean,
            let varianceA = control.variance, let varianceB = variant.variance
        else { return nil }
        let v = varianceA / Double(control.count) + varianceB / Double(variant.count)
        guard v > 0 else { return nil }
        let difference = meanB - meanA
        let scaled = Double(control.count + variant.count) * rhoSquared
        let exponent = difference * difference / v * scaled / (2 * (1 + scaled))
        let eValue = exp(min(exponent, 700)) / (1 + scaled).squareRoot()
        let radius = radius(variance: v, units: control.count + variant.count)
        return Estimate(difference: difference, lower: difference - radius, upper: difference + radius, eValue: eValue)
    }
}

/// An anytime-valid check that the variants got the shares of traffic they were given (sample ratio mismatch): the
/// Dirichlet–multinomial sequential test of Lindon & Malek ("Anytime-valid inference for multinomial count data",
/// NeurIPS 2022). Under the expected shares p, with prior Dirichlet(k·p), after counts x the Bayes factor is
/// Γ(k)/Γ(k + n) · Π Γ(k pᵢ + xᵢ)/Γ(k pᵢ) / Π pᵢ^xᵢ; a mismatch is declared when it reaches 1/α. A split that is off
/// means the assignment (or the counting) is broken, and no verdict of the experiment can be trusted.
public struct SampleRatioCheck: Sendable, Equatable {
    /// The prior's concentration.
    public static let concentration = 100.0

    /// The level: small, so that a sound experiment is not thrown away by chance.
    public let alpha: Double
    /// Each variant's expected share, adding up to 1.
    public let shares: [Double]
    /// The largest log Bayes factor seen so far (its decision stands).
    public private(set) var largestLogFactor = 0.0
    /// Units per variant so far.
    public private(set) var counts: [Int]

    /// A check of `shares` at level `alpha`.
    public init(shares: [Double], alpha: Double = 0.001) {
        let total = shares.reduce(0, +)
        self.shares = shares.map { total > 0 ? $0 / total : 1 / Double(shares.count) }
        self.alpha = alpha
        counts = [Int](repeating: 0, count: shares.count)
    }

    /// The check as a checkpoint left it: `counts` so far and the largest log Bayes factor seen.
    init(shares: [Double], alpha: Double = 0.001, counts: [Int], largestLogFactor: Double) {
        self.init(shares: shares, alpha: alpha)
        if counts.count == shares.count { self.counts = counts }
        self.largestLogFactor = largestLogFactor
    }

    /// Adds one window's units per variant, in the order of `shares`.
    public mutating func observe(_ window: [Int]) {
        for (index, count) in window.enumerated() where counts.indices.contains(index) { counts[index] += count }
        largestLogFactor = max(largestLogFactor, logFactor)
    }

    /// The log Bayes factor for "the shares are not as given" now.
    public var logFactor: Double {
        let k = Self.concentration
        let n = Double(counts.reduce(0, +))
        var result = lgamma(k) - lgamma(k + n)
        for (share, count) in zip(shares, counts) where share > 0 {
            let x = Double(count)
            result += lgamma(k * share + x) - lgamma(k * share) - x * log(share)
        }
        return result
    }

    /// The anytime p-value: 1 over the largest Bayes factor seen, at most 1.
    public var pValue: Double { min(1, exp(-largestLogFactor)) }

    /// Whether the split is off.
    public var mismatched: Bool { largestLogFactor >= log(1 / alpha) }
}

extension MeanDifference {
    /// The confidence sequence for one variant's own mean, by the same mixture at the same level; nil below the
    /// minimum sample.
    public func interval(of sums: UnitSums) -> (lower: Double, upper: Double)? {
        guard sums.count >= Self.minimumUnits, let mean = sums.mean, let variance = sums.variance else { return nil }
        let radius = radius(variance: variance / Double(sums.count), units: sums.count)
        return (mean - radius, mean + radius)
    }

    /// The confidence sequence's half-width for an estimate of variance `variance` from `units` units in all:
    /// √(V (1 + Nρ²)/(Nρ²) (2 log(1/α) + log(1 + Nρ²))).
    func radius(variance: Double, units: Int) -> Double {
        let scaled = Double(units) * rhoSquared
        return (variance * (1 + scaled) / scaled * (2 * log(1 / alpha) + log(1 + scaled))).squareRoot()
    }
}
