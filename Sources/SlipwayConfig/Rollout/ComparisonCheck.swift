/// A comparison of the candidate with the stable version over the same time, judged by an anytime-valid test
/// (an entry of `analysis.compare`): `errorRate`, or `{metric: errorRate, maxIncrease: 50%, minRequests: 1000}`.
public struct ComparisonCheck: Sendable, Equatable {
    /// What is compared.
    public enum Metric: String, Sendable, Equatable, CaseIterable {
        /// The share of requests answered 5xx (by the instance or by the proxy), candidate against baseline.
        case errorRate
    }

    /// What is compared.
    public var metric: Metric
    /// How much higher than the baseline's the candidate's rate may be, as a fraction of the baseline's: 0 (the
    /// default) means no increase at all, 0.5 means up to 1.5 times. Key `maxIncrease`, a percentage 0%...1000%.
    public var maxIncrease: Double
    /// Candidate requests after which the comparison passes when it has found no evidence of harm, even if it cannot
    /// yet show "no worse than the bound". Key `minRequests`; default 500.
    public var minRequests: Int
    /// The comparison as written, for messages and evidence.
    public var text: String

    /// The default of `minRequests`.
    public static let defaultMinRequests = 500

    /// Creates a comparison.
    public init(
        metric: Metric,
        maxIncrease: Double = 0,
        minRequests: Int = Self.defaultMinRequests,
        text: String? = nil
    ) {
        self.metric = metric
        self.maxIncrease = maxIncrease
        self.minRequests = minRequests
        self.text = text ?? Self.describe(metric, maxIncrease)
    }

    /// The largest ratio of the candidate's rate to the baseline's that is not harm.
    public var bound: Double { 1 + maxIncrease }

    /// `errorRate vs stable (no increase)`, `errorRate vs stable (at most +50%)`.
    public static func describe(_ metric: Metric, _ maxIncrease: Double) -> String {
        guard maxIncrease > 0 else { return "\(metric.rawValue) vs stable (no increase)" }
        let percent = (maxIncrease * 100 * 100).rounded() / 100
        let shown = percent == percent.rounded() ? String(Int(percent)) : String(percent)
        return "\(metric.rawValue) vs stable (at most +\(shown)%)"
    }
}
