/// What the proxy measures of one version over one window, as an analysis check reads it.
public enum AnalysisMetric: String, Sendable, Equatable, CaseIterable {
    /// Non-5xx responses over finished ones, 0...1 (written as a percentage, `99%`, or a fraction, `0.99`).
    case successRate
    /// 5xx responses over finished ones, 0...1.
    case errorRate
    /// Latency quantiles (written as durations: `300ms`).
    case p50, p90, p95, p99, p999
    /// Finished responses in the window.
    case requests
    /// The value of a PromQL query, in a `{query: …}` check (never written in a check's text).
    case query

    /// For a latency quantile, which one (0.5 for `p50` … 0.999 for `p999`); nil for the others.
    public var quantile: Double? {
        switch self {
        case .p50: return 0.5
        case .p90: return 0.9
        case .p95: return 0.95
        case .p99: return 0.99
        case .p999: return 0.999
        case .successRate, .errorRate, .requests, .query: return nil
        }
    }

    /// Whether values are durations.
    public var isLatency: Bool {
        switch self {
        case .p50, .p90, .p95, .p99, .p999: return true
        case .successRate, .errorRate, .requests, .query: return false
        }
    }
}

/// One threshold, written `successRate >= 99%`, `errorRate < 1%`, `p99 <= 300ms`, `requests >= 10`.
public struct AnalysisCheck: Sendable, Equatable {
    /// How the measured value is compared with the threshold.
    public enum Comparison: String, Sendable, Equatable {
        case lessThan = "<"
        case lessThanOrEqual = "<="
        case greaterThan = ">"
        case greaterThanOrEqual = ">="
    }

    /// The measured quantity.
    public var metric: AnalysisMetric
    /// The comparison that must hold for the check to pass.
    public var comparison: Comparison
    /// The threshold: a fraction for rates, seconds for latencies, a count for `requests`.
    public var threshold: Double
    /// Windows with fewer candidate requests than this are inconclusive for this check; nil uses the analysis's
    /// `minRequests`.
    public var minRequests: Int?
    /// The check as written, for messages and evidence.
    public var text: String
    /// For a `.query` check, the PromQL query with its `{…}` placeholders (see ``Placeholders/query``).
    public var query: String?

    /// Creates a check.
    public init(
        metric: AnalysisMetric,
        comparison: Comparison,
        threshold: Double,
        minRequests: Int? = nil,
        text: String,
        query: String? = nil
    ) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.minRequests = minRequests
        self.text = text
        self.query = query
    }

    /// Whether `value` satisfies the check.
    public func holds(for value: Double) -> Bool {
        switch comparison {
        case .lessThan: return value < threshold
        case .lessThanOrEqual: return value <= threshold
        case .greaterThan: return value > threshold
        case .greaterThanOrEqual: return value >= threshold
        }
    }
}

/// An app's analysis settings (key `analysis`): how the candidate is judged on the proxy's own metrics.
public struct AnalysisSpec: Sendable, Equatable {
    /// The length of one window; greater than 0. Key `interval`; default 2s.
    public var interval: Duration
    /// Checks for analysis steps. Key `checks`; default `successRate >= 99%`.
    public var checks: [AnalysisCheck]
    /// Checks evaluated on every window while the candidate takes traffic, whatever the step: one failing window
    /// rolls back at once. Key `failFast`; default `successRate >= 90%`. An empty list turns fail-fast off.
    public var failFast: [AnalysisCheck]
    /// Candidate requests a window needs for a check to be judged; fewer is inconclusive. Key `minRequests`,
    /// 1 or more; default 20.
    public var minRequests: Int
    /// Comparisons with the stable version over the same time, judged continuously by anytime-valid tests: evidence
    /// of harm rolls back at once, whatever the step; an analysis step needs them to pass as well. Key `compare`;
    /// default none.
    public var compare: [ComparisonCheck]
    /// The comparisons' level: the chance of rolling back a candidate that is no worse than the bound, however long
    /// it runs and however often it is judged. Key `alpha`, a percentage above 0% and at most 20%; default 1%.
    public var alpha: Double

    /// Creates analysis settings; the defaults are those used when the keys are absent.
    public init(
        interval: Duration = .seconds(2),
        checks: [AnalysisCheck] = [
            AnalysisCheck(
                metric: .successRate,
                comparison: .greaterThanOrEqual,
                threshold: 0.99,
                text: "successRate >= 99%"
            )
        ],
        failFast: [AnalysisCheck] = [
            AnalysisCheck(
                metric: .successRate,
                comparison: .greaterThanOrEqual,
                threshold: 0.9,
                text: "successRate >= 90%"
            )
        ],
        minRequests: Int = 20,
        compare: [ComparisonCheck] = [],
        alpha: Double = 0.01
    ) {
        self.interval = interval
        self.checks = checks
        self.failFast = failFast
        self.minRequests = minRequests
        self.compare = compare
        self.alpha = alpha
    }
}

/// An analysis step (`analysis:` in canary steps, rolling batches and blue-green promotion): how many windows to
/// judge and how many may fail. Checks not given here are the app's `analysis.checks`.
public struct AnalysisStepSpec: Sendable, Equatable {
    /// Conclusive windows that must pass, 1 or more. Key `windows`; default 3.
    public var windows: Int
    /// Failing windows tolerated; one more rolls back. Key `failureLimit`, 0 or more; default 0.
    public var failureLimit: Int
    /// Checks for this step instead of the app's `analysis.checks`; nil uses those. Key `checks`.
    public var checks: [AnalysisCheck]?

    /// Creates an analysis step; the defaults are those used when the keys are absent.
    public init(windows: Int = 3, failureLimit: Int = 0, checks: [AnalysisCheck]? = nil) {
        self.windows = windows
        self.failureLimit = failureLimit
        self.checks = checks
    }
}
