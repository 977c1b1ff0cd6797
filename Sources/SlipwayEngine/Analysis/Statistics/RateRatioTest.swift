import Foundation

/// An anytime-valid comparison of how often a "bad" event (an error, a request slower than a frozen latency) happens
/// on the candidate and on the baseline, over the same time.
///
/// Each bad event comes from the candidate or the baseline. When the candidate's rate is `r` times the baseline's and
/// its share of requests is `ρ`, an event comes from the candidate with probability `θ = ρr / (1 − ρ + ρr)`; so the
/// load, and an incident that hits both versions alike, cancel out. The test keeps the log-likelihood of every event
/// so far on a grid of ratios around the bound (steps of about 6.7%), and forms mixture e-processes from it. For a
/// ratio `r0` of the grid:
/// - "the ratio is at most `r0`" is tested against a mixture of the 17 ratios `r0 × 1.22 … r0 × 9.8` (odd grid steps
///   3 to 35, weighted alike), and "at least `r0`" against the same multiples below it;
/// - by Ville's inequality, each e-value *ever* reaching `1/α` has probability at most `α` when its null holds,
///   however often it is looked at.
///
/// The **harm** test is the first at `r0 = bound`: reaching `1/α` rolls back. The **interval** holds the ratios neither
/// test rejects: a confidence sequence whose each side has level `α`, so harm is exactly "the lower end exceeds
/// the bound", and "no worse" is "the upper end is within it".
///
/// Observations come in blocks (one metrics window) with the candidate's share of the block's requests. Conditioned
/// on the number of requests each version served, the events' origin is hypergeometric, whose spread is smaller than
/// the binomial the test models; the e-processes stay supermartingales, so the guarantee holds for per-request
/// assignment (random or by exact weights). Sticky users break it: one user's requests are not independent.
public struct RateRatioTest: Sendable, Equatable {
    /// Which way is harm.
    public enum Direction: String, Sendable, Equatable {
        /// The candidate's rate above `bound` times the baseline's (errors, slow requests).
        case increase
        /// The candidate's rate below `bound` times the baseline's (a share of successes that drops).
        case decrease
    }

    /// The level: the harm test's false alarm probability, and that of each end of the interval.
    public let alpha: Double
    /// Which way is harm.
    public let direction: Direction
    /// The ratio (candidate's rate over the baseline's) beyond which, in ``direction``, is harm; 1 means "no change
    /// at all" that way.
    public let bound: Double
    /// Bad events seen on the candidate and on the baseline, and the requests each served.
    public private(set) var candidateEvents = 0
    public private(set) var baselineEvents = 0
    public private(set) var candidateRequests = 0
    public private(set) var baselineRequests = 0
    /// The largest harm e-value seen (the anytime p-value is its inverse).
    public private(set) var maxEValue = 1.0

    /// The grid's step in log ratio, and its reach on either side of the bound (in steps).
    static let step = log(50.0) / 60
    static let reach = 96
    /// The alternatives, in grid steps away from the null: 1.22× to 9.8× (in `bench/analysis`, 2× errors at 10%
    /// weight were found after a median of 1,796 candidate requests with 24 ratios from 1.1× to 20×, about 1,600 with
    /// this range; 1.5× and 5× were found as fast with either).
    static let offsets = Array(stride(from: 3, through: 35, by: 2))

    /// Log-likelihood of the events so far at `bound × exp(step × (index − reach))`.
    private var logLikelihood: [Double]

    /// A test of "the candidate's rate is at most `bound` times the baseline's" at level `alpha`.
    public init(alpha: Double, bound: Double = 1, direction: Direction = .increase) {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), not \(alpha)")
        precondition(bound > 0, "the bound must be a positive ratio, not \(bound)")
        self.alpha = alpha
        self.direction = direction
        self.bound = bound
        logLikelihood = Array(repeating: 0, count: 2 * Self.reach + 1)
    }

    private func ratio(at index: Int) -> Double { bound * exp(Self.step * Double(index - Self.reach)) }

    /// Adds one block: `candidate` and `baseline` bad events, with the requests each version served in it.
    public mutating func observe(candidate: Int, baseline: Int, candidateRequests: Int, baselineRequests: Int) {
        self.candidateRequests += candidateRequests
        self.baselineRequests += baselineRequests
        let total = candidateRequests + baselineRequests
        guard total > 0, candidateRequests > 0, baselineRequests > 0 else { return }
        candidateEvents += candidate
        baselineEvents += baseline
        guard candidate + baseline > 0 else { return }
        let share = Double(candidateRequests) / Double(total)
        for index in logLikelihood.indices {
            let ratio = ratio(at: index)
            let theta = share * ratio / (1 - share + share * ratio)
            logLikelihood[index] += Double(candidate) * log(theta) + Double(baseline) * log1p(-theta)
        }
        maxEValue = max(maxEValue, eValue)
    }

    /// Evidence against "the ratio is at most the grid's `index`th" (`above`), or "at least" it.
    private func evidence(at index: Int, above: Bool) -> Double {
        let alternatives = Self.offsets.compactMap { offset -> Double? in
            let other = above ? index + offset : index - offset
            return logLikelihood.indices.contains(other) ? logLikelihood[other] - logLikelihood[index] : nil
        }
        return alternatives.isEmpty ? 1 : Self.meanExp(alternatives)
    }

    /// The harm e-value now: evidence that the ratio is beyond the bound in ``direction`` (reject at `1/alpha`).
    public var eValue: Double { evidence(at: Self.reach, above: direction == .increase) }

    /// Whether the candidate is shown worse than the bound, at level `alpha`.
    public var harmful: Bool { maxEValue >= 1 / alpha }

    /// The anytime-valid p-value of "no worse than the bound".
    public var pValue: Double { min(1, 1 / maxEValue) }

    /// The ratio's confidence sequence now: the grid's lowest and highest ratios neither test rejects (0 and
    /// infinity when the data do not bound it on that side).
    public var interval: (lower: Double, upper: Double) {
        let threshold = 1 / alpha
        let indices = logLikelihood.indices
        let lowest = indices.first { evidence(at: $0, above: true) < threshold }
        let highest = indices.last { evidence(at: $0, above: false) < threshold }
        let lower = lowest.map { $0 == indices.first! ? 0 : ratio(at: $0) } ?? .infinity
        let upper = highest.map { $0 == indices.last! ? .infinity : ratio(at: $0) } ?? 0
        return (lower, upper)
    }

    /// Whether the whole interval lies on the good side of the bound: the candidate is shown no worse than it.
    public var noWorse: Bool {
        direction == .increase ? interval.upper <= bound * (1 + 1e-9) : interval.lower >= bound * (1 - 1e-9)
    }

    /// The observed ratio of rates (nil until both versions had an event or a request).
    public var estimate: Double? {
        guard candidateRequests > 0, baselineRequests > 0, baselineEvents > 0 else { return nil }
        let candidateRate = Double(candidateEvents) / Double(candidateRequests)
        let baselineRate = Double(baselineEvents) / Double(baselineRequests)
        return candidateRate / baselineRate
    }

    /// log(mean(exp(values))), computed without overflow, then exponentiated.
    static func meanExp(_ values: [Double]) -> Double {
        guard let top = values.max(), top.isFinite else { return values.isEmpty ? 0 : 1 }
        let sum = values.reduce(0) { $0 + exp($1 - top) }
        return exp(top + log(sum / Double(values.count)))
    }
}
