import Foundation
import SlipwayCore

/// Whether the candidate degrades more under a fault than the baseline does: each version's error rate and latency
/// quantiles under the fault against its own before it, and the candidate's rise against the baseline's. Pure.
///
/// Both sides are anytime-valid, so the comparison may be looked at after every window:
/// - **errors**: each of the four error rates (two versions, two periods) lies, at every moment at once, within a
///   confidence sequence from the Beta(½, ½) mixture of Bernoulli likelihood ratios (Robbins' mixture martingale);
///   the lowest the candidate's rise can be minus the highest the baseline's can be is a lower bound on how much more
///   the candidate degraded.
/// - **latency**: each of the four latency distributions lies within its time-uniform DKW band (as in
///   ``SequentialKS``), which bounds every quantile at once; at the p50, p75, p90, p95 and p99 the same difference
///   of rises is bounded from below.
///
/// Harm is a lower bound above the tolerance. The level `alpha` is split alike over the eight sequences (a union
/// bound), so a candidate exactly as resilient as the baseline is failed with probability at most `alpha`, however
/// often the comparison is looked at. Rates and quantiles do not need the versions' shares of traffic to stay fixed:
/// each version is compared with itself first.
public struct ResilienceComparison: Sendable, Equatable {
    /// One version's traffic before the fault and under it.
    public struct Cohort: Sendable, Equatable {
        public var before = SteadyStateComparison.Period(requests: 0, errors: 0, latency: LatencyCounts())
        public var during = SteadyStateComparison.Period(requests: 0, errors: 0, latency: LatencyCounts())

        /// Creates an empty cohort.
        public init() {}
    }

    /// What the comparison found at one quantile, or on the error rate.
    public struct Rise: Sendable, Equatable {
        /// What was compared: `errors` or `p90`.
        public var measure: String
        /// The point estimates: each version's value before the fault and under it (a rate, or seconds).
        public var candidateBefore: Double
        public var candidateDuring: Double
        public var baselineBefore: Double
        public var baselineDuring: Double
        /// The least the candidate's rise exceeds the baseline's by, at the comparison's confidence (may be negative
        /// or -infinity when too little is known).
        public var excessLowerBound: Double

        /// The candidate's rise minus the baseline's, as estimated.
        public var excess: Double { (candidateDuring - candidateBefore) - (baselineDuring - baselineBefore) }
    }

    /// The quantiles compared.
    public static let quantiles: [(name: String, value: Double)] = [
        ("p50", 0.5), ("p75", 0.75), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99),
    ]
    /// The fewest requests each of the four periods needs before the step may pass.
    public static let minimumRequests = SequentialKS.minimumSamples

    /// The candidate's and the baseline's traffic.
    public private(set) var candidate = Cohort()
    public private(set) var baseline = Cohort()
    /// The level of the whole comparison.
    public let alpha: Double
    /// How much more the candidate's error rate (a fraction) and a latency quantile may rise than the baseline's.
    public let errorTolerance: Double
    public let latencyTolerance: Duration
    /// Set once harm is found (the decision stands).
    public private(set) var harm: [Rise] = []

    /// A comparison at level `alpha` with the given tolerances.
    public init(alpha: Double, errorTolerance: Double, latencyTolerance: Duration) {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), not \(alpha)")
        self.alpha = alpha
        self.errorTolerance = errorTolerance
        self.latencyTolerance = latencyTolerance
    }

    /// The level of each of the eight sequences.
    var level: Double { alpha / 8 }

    /// Adds one window of each version, before the fault or under it.
    public mutating func observe(candidate: VersionWindow?, baseline: VersionWindow?, underFault: Bool) {
        Self.add(candidate, to: &self.candidate, underFault: underFault)
        Self.add(baseline, to: &self.baseline, underFault: underFault)
        guard harm.isEmpty else { return }
        harm = rises.filter { rise in
            rise.measure == "errors"
                ? rise.excessLowerBound > errorTolerance
                : rise.excessLowerBound > latencyTolerance.inSeconds
        }
    }

    private static func add(_ window: VersionWindow?, to cohort: inout Cohort, underFault: Bool) {
        guard let window else { return }
        func merge(_ period: inout SteadyStateComparison.Period) {
            period.requests += window.requests
            period.errors += window.errors
            period.latency = period.latency.adding(window.latencyCounts)
        }
        if underFault { merge(&cohort.during) } else { merge(&cohort.before) }
    }

    /// Whether harm was found.
    public var harmful: Bool { !harm.isEmpty }

    /// Whether each of the four periods has the requests the bounds need.
    public var enoughBefore: Bool {
        [candidate.before, baseline.before].allSatisfy { $0.latency.total >= Self.minimumRequests }
    }
    public var enoughDuring: Bool {
        [candidate.during, baseline.during].allSatisfy { $0.latency.total >= Self.minimumRequests }
    }

    /// The error rate's rise and every quantile's, with their bounds.
    public var rises: [Rise] {
        var result: [Rise] = []
        let periods = [candidate.before, candidate.during, baseline.before, baseline.during]
        if periods.allSatisfy({ $0.requests > 0 }) {
            let intervals = periods.map {
                RateConfidence.interval(events: $0.errors, trials: $0.requests, level: level)
            }
            let rates = periods.map { Double($0.errors) / Double($0.requests) }
            result.append(
                Rise(
                    measure: "errors",
                    candidateBefore: rates[0],
                    candidateDuring: rates[1],
                    baselineBefore: rates[2],
                    baselineDuring: rates[3],
                    excessLowerBound: (intervals[1].lower - intervals[0].upper)
                        - (intervals[3].upper - intervals[2].lower)
                )
            )
        }
        guard periods.allSatisfy({ $0.latency.total >= Self.minimumRequests }) else { return result }
        let epsilons = periods.map { SequentialKS.epsilon(samples: $0.latency.total, level: level) }
        for (name, q) in Self.quantiles {
            func point(_ index: Int) -> Double {
                periods[index].latency.latency(quantile: q).map(\.inSeconds) ?? 0
            }
            func lower(_ index: Int) -> Double {
                let rank = q - epsilons[index]
                return rank <= 0 ? 0 : periods[index].latency.latency(quantile: rank).map(\.inSeconds) ?? 0
            }
            func upper(_ index: Int) -> Double {
                let rank = q + epsilons[index]
                return rank >= 1 ? .infinity : periods[index].latency.latency(quantile: rank).map(\.inSeconds) ?? 0
            }
            result.append(
                Rise(
                    measure: name,
                    candidateBefore: point(0),
                    candidateDuring: point(1),
                    baselineBefore: point(2),
                    baselineDuring: point(3),
                    excessLowerBound: (lower(1) - upper(0)) - (upper(3) - lower(2))
                )
            )
        }
        return result
    }

    /// Why the candidate failed, one line per measure that found harm.
    public var findings: [String] {
        harm.map { rise in
            if rise.measure == "errors" {
                return "under the fault the candidate's error rate went from \(Self.percent(rise.candidateBefore)) "
                    + "to \(Self.percent(rise.candidateDuring)), the baseline's from \(Self.percent(rise.baselineBefore)) "
                    + "to \(Self.percent(rise.baselineDuring)): the candidate's rise exceeds the baseline's by at least "
                    + "\(Self.percent(rise.excessLowerBound)) (tolerance \(Self.percent(errorTolerance)))"
            }
            return
                "under the fault the candidate's \(rise.measure) went from \(Self.milliseconds(rise.candidateBefore)) "
                + "to \(Self.milliseconds(rise.candidateDuring)), the baseline's from "
                + "\(Self.milliseconds(rise.baselineBefore)) to \(Self.milliseconds(rise.baselineDuring)): the "
                + "candidate's rise exceeds the baseline's by at least \(Self.milliseconds(rise.excessLowerBound)) "
                + "(tolerance \(Self.milliseconds(latencyTolerance.inSeconds)))"
        }
    }

    /// The comparison as event fields: requests of each period, every rise with its bound, and the harm found.
    public var fields: [String: JSONValue] {
        func period(_ value: SteadyStateComparison.Period) -> JSONValue {
            .object(["requests": .int(value.requests), "errors": .int(value.errors)])
        }
        func cohort(_ value: Cohort) -> JSONValue {
            .object(["before": period(value.before), "during": period(value.during)])
        }
        let rises = rises.map { rise -> JSONValue in
            .object([
                "measure": .string(rise.measure),
                "candidateBefore": .double(rise.candidateBefore),
                "candidateDuring": .double(rise.candidateDuring),
                "baselineBefore": .double(rise.baselineBefore),
                "baselineDuring": .double(rise.baselineDuring),
                "excess": .double(rise.excess),
                "excessLowerBound": rise.excessLowerBound.isFinite ? .double(rise.excessLowerBound) : .null,
            ])
        }
        return [
            "candidate": cohort(candidate),
            "baseline": cohort(baseline),
            "rises": .array(rises),
            "alpha": .double(alpha),
            "harm": .array(harm.map { .string($0.measure) }),
        ]
    }

    private static func percent(_ fraction: Double) -> String {
        fraction.isFinite ? String(format: "%.2f%%", fraction * 100) : "n/a"
    }

    private static func milliseconds(_ seconds: Double) -> String {
        seconds.isFinite ? String(format: "%.1f ms", seconds * 1000) : "n/a"
    }
}

/// A time-uniform confidence sequence for a Bernoulli rate: the rates `p` whose Beta(½, ½) mixture likelihood ratio
/// against `p` stays below `1 / level`. By Ville's inequality the true rate leaves it, ever, with probability at
/// most `level`. Pure.
public enum RateConfidence {
    /// The interval after `events` of `trials`.
    public static func interval(events: Int, trials: Int, level: Double) -> (lower: Double, upper: Double) {
        guard trials > 0 else { return (0, 1) }
        let k = Double(events)
        let n = Double(trials)
        let threshold = log(1 / level)
        // log of the mixture's marginal likelihood, which does not depend on p.
        let marginal = logBeta(0.5 + k, 0.5 + n - k) - logBeta(0.5, 0.5)
        func logE(_ p: Double) -> Double {
            let kTerm = k > 0 ? k * log(p) : 0
            let rest = n - k > 0 ? (n - k) * log(1 - p) : 0
            return marginal - kTerm - rest
        }
        let estimate = k / n
        // log E is convex in p with its minimum (below 0) at the estimate: one crossing on each side.
        func crossing(from inside: Double, to outside: Double) -> Double {
            var low = inside
            var high = outside
            for _ in 0..<60 {
                let middle = (low + high) / 2
                if logE(middle) < threshold { low = middle } else { high = middle }
            }
            return low
        }
        let lower = events == 0 ? 0 : crossing(from: estimate, to: 0)
        let upper = events == trials ? 1 : crossing(from: estimate, to: 1)
        return (lower, upper)
    }

    private static func logBeta(_ a: Double, _ b: Double) -> Double {
        lgamma(a) + lgamma(b) - lgamma(a + b)
    }
}
