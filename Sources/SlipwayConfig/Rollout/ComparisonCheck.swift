import SlipwayCore

/// A comparison of the candidate with the stable version over the same time, judged by an anytime-valid test
/// (an entry of `analysis.compare`): `errorRate`, or `{metric: errorRate, maxIncrease: 50%, minRequests: 1000}`.
public struct ComparisonCheck: Sendable, Equatable {
    /// What is compared.
    public enum Metric: String, Sendable, Equatable, CaseIterable {
        /// The share of requests answered 5xx (by the instance or by the proxy), candidate against baseline.
        case errorRate
        /// The share of each response class, 2xx, 3xx, 4xx and 5xx: a share that moves either way is harm (a
        /// candidate answering 404 where the stable version answers 200 is as broken as one that fails).
        case statusClasses
        /// The share of requests slower than a latency: `slowerThan`, or the stable version's p99 frozen before the
        /// candidate takes traffic (the tail, where averages and distributions hide a regression).
        case latency
        /// The whole latency distribution, by a sequential Kolmogorov–Smirnov test on the proxy's histograms: is
        /// the candidate slower across the board?
        case latencyDistribution
    }

    /// What is compared.
    public var metric: Metric
    /// How much higher than the baseline's the candidate's rate may be, as a fraction of the baseline's: 0 (the
    /// default) means no increase at all, 0.5 means up to 1.5 times. Key `maxIncrease`, a percentage 0%...1000%.
    public var maxIncrease: Double
    /// Candidate requests after which the comparison passes when it has found no evidence of harm, even if it cannot
    /// yet show "no worse than the bound". Key `minRequests`; default 500.
    public var minRequests: Int
    /// For `latency`: the latency a request must exceed to count; nil freezes the stable version's p99. Key
    /// `slowerThan`.
    public var slowerThan: Duration?
    /// The comparison as people read it, for messages and evidence.
    public var text: String { Self.describe(metric, maxIncrease, slowerThan) }

    /// The default of `minRequests`.
    public static let defaultMinRequests = 500

    /// Creates a comparison.
    public init(
        metric: Metric,
        maxIncrease: Double = 0,
        minRequests: Int = Self.defaultMinRequests,
        slowerThan: Duration? = nil
    ) {
        self.metric = metric
        self.maxIncrease = maxIncrease
        self.minRequests = minRequests
        self.slowerThan = slowerThan
    }

    /// The largest ratio of the candidate's rate to the baseline's that is not harm.
    public var bound: Double { 1 + maxIncrease }

    /// `errorRate vs stable (no increase)`, `statusClasses vs stable (at most ×1.5 either way)`,
    /// `latency > 300ms vs stable (no increase)`.
    public static func describe(_ metric: Metric, _ maxIncrease: Double, _ slowerThan: Duration? = nil) -> String {
        let name: String
        switch metric {
        case .errorRate, .statusClasses: name = metric.rawValue
        case .latencyDistribution: return "latencyDistribution vs stable (not slower)"
        case .latency: name = "latency > \(slowerThan.map { DurationText.format($0) } ?? "stable's p99")"
        }
        let percent = (maxIncrease * 100 * 100).rounded() / 100
        let shown = percent == percent.rounded() ? String(Int(percent)) : String(percent)
        switch (metric, maxIncrease > 0) {
        case (.statusClasses, false): return "\(name) vs stable (no change)"
        case (.statusClasses, true): return "\(name) vs stable (at most ×\(1 + maxIncrease) either way)"
        case (_, false): return "\(name) vs stable (no increase)"
        case (_, true): return "\(name) vs stable (at most +\(shown)%)"
        }
    }
}
