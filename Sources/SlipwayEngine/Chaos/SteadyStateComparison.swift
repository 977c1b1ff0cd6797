import Foundation
import SlipwayCore

/// Whether an app's traffic while an experiment's method ran was worse than its steady state before: the two
/// periods compared with the anytime-valid tests the analysis uses (a rate-ratio e-process on 5xx, a sequential
/// Kolmogorov–Smirnov test on the latency distributions, and the rate-ratio test on requests slower than the steady
/// state's p99), latencies judged only from a floor up. Pure.
public struct SteadyStateComparison: Sendable, Equatable {
    /// One period's traffic: requests, the app's own 5xx, and the latency histogram.
    public struct Period: Sendable, Equatable {
        public var requests: Int
        public var errors: Int
        public var latency: LatencyCounts

        /// Creates a period.
        public init(requests: Int, errors: Int, latency: LatencyCounts) {
            self.requests = requests
            self.errors = errors
            self.latency = latency
        }

        /// Its share of 5xx; nil without requests.
        public var errorRate: Double? { requests > 0 ? Double(errors) / Double(requests) : nil }
    }

    /// The steady state, and the method's period.
    public var before: Period
    public var during: Period
    /// The tests' level.
    public var alpha: Double
    /// Latencies below this are not judged: a shift among requests all faster than it is noise of a busy machine,
    /// not a change a user sees. Requests count as slow above the steady state's p99 or this, whichever is higher.
    public var latencyFloor: Duration
    /// The 5xx test.
    public private(set) var errors: RateRatioTest
    /// The latency distributions' test (needs 100 requests in each period).
    public private(set) var latency: SequentialKS
    /// Requests slower than the steady state's p99, and their test.
    public private(set) var slowLimit: Duration?
    public private(set) var slow: RateRatioTest

    /// Compares `during` with `before` at level `alpha`, judging latencies from `latencyFloor` up.
    public init(before: Period, during: Period, alpha: Double = 0.05, latencyFloor: Duration = .milliseconds(10)) {
        self.before = before
        self.during = during
        self.alpha = alpha
        self.latencyFloor = latencyFloor
        errors = RateRatioTest(alpha: alpha)
        errors.observe(
            candidate: during.errors,
            baseline: before.errors,
            candidateRequests: during.requests,
            baselineRequests: before.requests
        )
        latency = SequentialKS(alpha: alpha)
        latency.observe(candidate: during.latency, baseline: before.latency)
        slow = RateRatioTest(alpha: alpha)
        slowLimit = before.latency.latency(quantile: 0.99).map { max($0, latencyFloor) }
        if let limit = slowLimit {
            slow.observe(
                candidate: during.latency.count(slowerThan: limit),
                baseline: before.latency.count(slowerThan: limit),
                candidateRequests: during.latency.total,
                baselineRequests: before.latency.total
            )
        }
    }

    /// Whether the latency distributions' shift counts: the method's p99 reaches the floor.
    private var latencyJudged: Bool {
        (during.latency.latency(quantile: 0.99) ?? .zero) >= latencyFloor
    }

    /// Whether the steady state held: none of the three tests found the method's period worse.
    public var held: Bool { !errors.harmful && !(latency.harmful && latencyJudged) && !slow.harmful }

    /// Why it did not hold, one line per test that found harm.
    public var findings: [String] {
        var lines: [String] = []
        if errors.harmful {
            lines.append(
                "5xx rose from \(Self.percent(before.errorRate)) to \(Self.percent(during.errorRate)) "
                    + "(e-value \(Self.number(errors.maxEValue)))"
            )
        }
        if latency.harmful, latencyJudged {
            lines.append(
                "latency shifted: the distributions differ by \(Self.number(latency.separation)) "
                    + "(band \(Self.number(latency.band)))"
            )
        }
        if slow.harmful, let limit = slowLimit {
            lines.append(
                "more requests slower than \(Self.milliseconds(limit)) ms (the steady state's p99): "
                    + "e-value \(Self.number(slow.maxEValue))"
            )
        }
        return lines
    }

    private static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.2f%%", $0 * 100) } ?? "n/a"
    }

    private static func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3g", value) : "∞"
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f", duration.inMilliseconds)
    }
}
