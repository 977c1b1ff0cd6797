import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// A deterministic random number generator (SplitMix64), so that every run of the harness is reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that starts from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// How many of `count` independent draws succeed with probability `p`.
    public mutating func binomial(_ count: Int, _ p: Double) -> Int {
        guard p > 0 else { return 0 }
        var successes = 0
        for _ in 0..<count where Double.random(in: 0..<1, using: &self) < p { successes += 1 }
        return successes
    }
}

/// A simulated rollout: request streams of a baseline and a candidate, window by window.
public struct Scenario: Sendable {
    /// One stretch of the rollout at one candidate weight.
    public struct Stage: Sendable {
        /// The candidate's share of requests, 0...1.
        public var weight: Double
        /// How many windows it lasts.
        public var windows: Int

        /// Creates a stage.
        public init(weight: Double, windows: Int) {
            self.weight = weight
            self.windows = windows
        }
    }

    /// An incident that raises the error rate of both versions alike for a while.
    public struct Incident: Sendable {
        /// The first window it hits, and how many.
        public var firstWindow: Int
        public var windows: Int
        /// The error rate of both versions meanwhile.
        public var errorRate: Double

        /// Creates an incident.
        public init(firstWindow: Int, windows: Int, errorRate: Double) {
            self.firstWindow = firstWindow
            self.windows = windows
            self.errorRate = errorRate
        }
    }

    /// Latencies of the requests, when the scenario is about them: log-normal around a median, the candidate's
    /// scaled by `factor`, and a share of its requests `extra` slower.
    public struct Latency: Sendable {
        /// The baseline's median, and the spread of its logarithm.
        public var median: Double = 0.020
        public var sigma: Double = 0.5
        /// The candidate's latencies over the baseline's.
        public var factor: Double = 1
        /// The share of the candidate's requests slowed by `extra` seconds.
        public var tailShare: Double = 0
        public var extra: Double = 0

        /// Creates a latency model.
        public init(factor: Double = 1, tailShare: Double = 0, extra: Double = 0) {
            self.factor = factor
            self.tailShare = tailShare
            self.extra = extra
        }
    }

    /// The name printed.
    public var name: String
    /// The latency model, for scenarios about latency.
    public var latency: Latency?
    /// The baseline's error rate.
    public var errorRate: Double
    /// The candidate's error rate over the baseline's (1 for an A/A run).
    public var ratio: Double
    /// The weights, in order.
    public var stages: [Stage]
    /// An incident hitting both versions, if any.
    public var incident: Incident?
    /// Requests per window (all versions); the window is one second.
    public var requestsPerWindow: Int

    /// Creates a scenario.
    public init(
        name: String,
        errorRate: Double = 0.01,
        ratio: Double,
        stages: [Stage],
        incident: Incident? = nil,
        latency: Latency? = nil,
        requestsPerWindow: Int = 200
    ) {
        self.name = name
        self.latency = latency
        self.errorRate = errorRate
        self.ratio = ratio
        self.stages = stages
        self.incident = incident
        self.requestsPerWindow = requestsPerWindow
    }

    /// The candidate detected as worse, and after how many of its requests; nil when it never was.
    public typealias Detection = Int?

    /// Runs the scenario once through `judge`, which sees every window and answers whether to roll back.
    public func run(seed: UInt64, judge: inout some WindowJudge) -> Detection {
        var random = SeededGenerator(seed: seed)
        var index = 0
        var candidateRequests = 0
        for stage in stages {
            for _ in 0..<stage.windows {
                var rate = errorRate
                if let incident, index >= incident.firstWindow, index < incident.firstWindow + incident.windows {
                    rate = incident.errorRate
                }
                let candidate = random.binomial(requestsPerWindow, stage.weight)
                let baseline = requestsPerWindow - candidate
                var baselineWindow = VersionWindow(requests: baseline, errors: random.binomial(baseline, rate))
                var candidateWindow = VersionWindow(
                    requests: candidate,
                    errors: random.binomial(candidate, min(1, rate * ratio))
                )
                if let latency {
                    baselineWindow.latencyCounts = Self.latencies(baseline, latency, candidate: false, &random)
                    candidateWindow.latencyCounts = Self.latencies(candidate, latency, candidate: true, &random)
                }
                let window = MetricsWindow(
                    start: Moment(.seconds(index)),
                    end: Moment(.seconds(index + 1)),
                    versions: ["1.0": baselineWindow, "2.0": candidateWindow]
                )
                candidateRequests += candidate
                index += 1
                if judge.rollsBack(window) { return candidateRequests }
            }
        }
        return nil
    }
}

extension Scenario {
    /// `count` latencies, bucketed to 3 significant digits as the proxy's histograms are.
    static func latencies(
        _ count: Int,
        _ model: Latency,
        candidate: Bool,
        _ random: inout SeededGenerator
    ) -> LatencyCounts {
        var buckets: [UInt64: Int] = [:]
        for _ in 0..<count {
            var seconds = model.median * exp(model.sigma * random.normal())
            if candidate {
                seconds *= model.factor
                if model.tailShare > 0, Double.random(in: 0..<1, using: &random) < model.tailShare {
                    seconds += model.extra
                }
            }
            buckets[Self.bucket(UInt64(seconds * 1_000_000)), default: 0] += 1
        }
        return LatencyCounts(buckets.map { (micros: $0.key, count: $0.value) })
    }

    static func bucket(_ micros: UInt64) -> UInt64 {
        var scale: UInt64 = 1
        var value = micros
        while value >= 1_000 {
            value /= 10
            scale *= 10
        }
        return value * scale
    }
}

/// What decides, window by window, whether a candidate is rolled back.
public protocol WindowJudge {
    /// Sees one more window; true to roll back.
    mutating func rollsBack(_ window: MetricsWindow) -> Bool
}

/// Slipway's comparison with the baseline (`analysis.compare: [errorRate]`), through the engine's own code.
public struct ComparisonJudge: WindowJudge {
    var comparison: BaselineComparison

    /// A comparison of `metric` at level `alpha`, allowing `maxIncrease`.
    public init(alpha: Double, metric: ComparisonCheck.Metric = .errorRate, maxIncrease: Double = 0) {
        self.init(alpha: alpha, check: ComparisonCheck(metric: metric, maxIncrease: maxIncrease))
    }

    /// `check` at level `alpha`.
    public init(alpha: Double, check: ComparisonCheck) {
        comparison = BaselineComparison(
            checks: [check],
            alpha: alpha,
            candidate: "2.0",
            baseline: "1.0"
        )
    }

    public mutating func rollsBack(_ window: MetricsWindow) -> Bool {
        comparison.observe(window)
        return !comparison.harmful.isEmpty
    }
}

/// Threshold checks on the candidate's own numbers, judged on every window as analysis steps and fail-fast do.
/// The bound no test of the error rate beats: Wald's sequential probability ratio test told the true ratio in advance.
///
/// Given the requests of each version in a window, an error is the candidate's with probability nC/(nC + nB) when the
/// rates are equal, and r·nC/(r·nC + nB) when the candidate's is r times the baseline's. The log of the likelihood
/// ratio of the two, summed over every error, crosses log(1/α) first on average among all tests with that error
/// guarantee (Wald and Wolfowitz, 1948). Slipway cannot know r; this shows how close its test comes.
public struct OracleJudge: WindowJudge {
    let ratio: Double
    let threshold: Double
    var logLikelihoodRatio = 0.0

    /// The test of "the candidate's error rate is `ratio` times the baseline's" against "equal", at level `alpha`.
    public init(ratio: Double, alpha: Double) {
        self.ratio = ratio
        threshold = log(1 / alpha)
    }

    public mutating func rollsBack(_ window: MetricsWindow) -> Bool {
        guard let candidate = window.versions["2.0"], let baseline = window.versions["1.0"],
            candidate.requests + baseline.requests > 0
        else { return false }
        let nC = Double(candidate.requests)
        let nB = Double(baseline.requests)
        let equal = nC / (nC + nB)
        let worse = ratio * nC / (ratio * nC + nB)
        logLikelihoodRatio +=
            Double(candidate.errors) * log(worse / equal) + Double(baseline.errors) * log((1 - worse) / (1 - equal))
        return logLikelihoodRatio >= threshold
    }
}

public struct ThresholdJudge: WindowJudge {
    let checks: [AnalysisCheck]
    let minRequests: Int
    /// Windows are pooled to this length before they are judged (the analysis interval, in seconds).
    let pooled: Int
    var pending: [MetricsWindow] = []

    /// `checks` judged every `interval` windows with `minRequests`, as `analysis.checks` are.
    public init(checks: [AnalysisCheck], minRequests: Int = 20, interval: Int = 2) {
        self.checks = checks
        self.minRequests = minRequests
        self.pooled = interval
    }

    public mutating func rollsBack(_ window: MetricsWindow) -> Bool {
        pending.append(window)
        guard pending.count >= pooled else { return false }
        var versions: [String: VersionWindow] = [:]
        for part in pending {
            for (version, traffic) in part.versions {
                let sum = versions[version] ?? VersionWindow(requests: 0, errors: 0)
                versions[version] = VersionWindow(
                    requests: sum.requests + traffic.requests,
                    errors: sum.errors + traffic.errors,
                    latencyCounts: sum.latencyCounts.adding(traffic.latencyCounts)
                )
            }
        }
        // The quantiles the proxy would report for the pooled window.
        for (version, traffic) in versions {
            for metric in AnalysisMetric.allCases {
                guard let quantile = metric.quantile else { continue }
                versions[version]?.latencies[metric] = traffic.latencyCounts.latency(quantile: quantile)
            }
        }
        let merged = MetricsWindow(start: pending[0].start, end: window.end, versions: versions)
        pending.removeAll()
        return WindowJudgement(checks: checks, minRequests: minRequests, version: "2.0", window: merged).verdict
            == .fail
    }
}

/// Share of runs detected, and the median candidate requests to detection among them.
public struct Tally: Sendable {
    /// Runs made.
    public var runs: Int
    /// Candidate requests to detection, per detected run.
    public var detections: [Int]

    /// The share of runs detected.
    public var rate: Double { runs == 0 ? 0 : Double(detections.count) / Double(runs) }

    /// The median of the detections; nil when none.
    public var median: Int? {
        guard !detections.isEmpty else { return nil }
        let sorted = detections.sorted()
        return sorted[sorted.count / 2]
    }

    /// Runs `scenario` `runs` times (seeds `seed`, `seed + 1`, ...) with a fresh judge each time.
    public static func of<Judge: WindowJudge>(
        _ scenario: Scenario,
        runs: Int,
        seed: UInt64 = 1,
        judge: () -> Judge
    ) -> Tally {
        var detections: [Int] = []
        for run in 0..<runs {
            var fresh = judge()
            if let found = scenario.run(seed: seed &+ UInt64(run), judge: &fresh) { detections.append(found) }
        }
        return Tally(runs: runs, detections: detections)
    }
}
