import Foundation
import SlipwayConfig
import SlipwayCore

/// The candidate judged against the stable version over the same time, window after window, by anytime-valid tests
/// (one per `analysis.compare` entry).
///
/// The evidence accumulates over the whole rollout, from the first window in which the candidate takes traffic; it
/// may be looked at after every window without inflating the false alarm rate beyond `alpha`.
public struct BaselineComparison: Sendable, Equatable {
    /// Where one comparison stands.
    public enum Standing: String, Sendable, Equatable {
        /// Evidence of harm: the candidate is worse than the bound (at level alpha).
        case harm
        /// The interval lies within the bound: the candidate is shown no worse than it.
        case noWorse
        /// The minimum sample is met with no evidence of harm (not a proof of "no worse").
        case noEvidenceOfHarm
        /// Neither yet.
        case running
    }

    /// One comparison and its test.
    public struct Entry: Sendable, Equatable {
        /// The comparison as configured.
        public var check: ComparisonCheck
        /// Its test.
        public var test: RateRatioTest

        /// Where it stands.
        public var standing: Standing {
            if test.harmful { return .harm }
            if test.noWorse { return .noWorse }
            if test.candidateRequests >= check.minRequests { return .noEvidenceOfHarm }
            return .running
        }
    }

    /// The comparisons, in the order written.
    public private(set) var entries: [Entry]
    /// The version judged and its baseline.
    public let candidate: String
    public let baseline: String
    /// What the evidence assumes that the routing may not give (sticky users, match rules), for the decisions.
    public let notes: [String]

    /// Comparisons of `candidate` with `baseline` at level `alpha`.
    public init(checks: [ComparisonCheck], alpha: Double, candidate: String, baseline: String, notes: [String] = []) {
        self.entries = checks.map { Entry(check: $0, test: RateRatioTest(alpha: alpha, bound: $0.bound)) }
        self.candidate = candidate
        self.baseline = baseline
        self.notes = notes
    }

    /// Adds one window's traffic of both versions.
    public mutating func observe(_ window: MetricsWindow) {
        let candidateTraffic = window[candidate]
        let baselineTraffic = window[baseline]
        for index in entries.indices {
            switch entries[index].check.metric {
            case .errorRate:
                entries[index].test.observe(
                    candidate: candidateTraffic.errors,
                    baseline: baselineTraffic.errors,
                    candidateRequests: candidateTraffic.requests,
                    baselineRequests: baselineTraffic.requests
                )
            }
        }
    }

    /// The comparisons that found harm.
    public var harmful: [Entry] { entries.filter(\.test.harmful) }

    /// Whether every comparison lets a step pass (shown no worse, or its minimum sample met without harm).
    public var passes: Bool {
        entries.allSatisfy { $0.standing == .noWorse || $0.standing == .noEvidenceOfHarm }
    }

    /// The evidence of every comparison, as event fields.
    public var fields: JSONValue {
        .array(entries.map { Self.fields(of: $0, candidate: candidate, baseline: baseline, notes: notes) })
    }

    static func fields(of entry: Entry, candidate: String, baseline: String, notes: [String]) -> JSONValue {
        let test = entry.test
        var object: [String: JSONValue] = [
            "compare": .string(entry.check.text),
            "standing": .string(entry.standing.rawValue),
            "eValue": .double(Self.rounded(test.eValue)),
            "maxEValue": .double(Self.rounded(test.maxEValue)),
            "threshold": .double(Self.rounded(1 / test.alpha)),
            "pValue": .double(Self.rounded(test.pValue)),
            "alpha": .double(test.alpha),
            "bound": .double(test.bound),
            "candidate": .object([
                "version": .string(candidate), "requests": .int(test.candidateRequests),
                "errors": .int(test.candidateEvents),
            ]),
            "baseline": .object([
                "version": .string(baseline), "requests": .int(test.baselineRequests),
                "errors": .int(test.baselineEvents),
            ]),
            "minRequests": .int(entry.check.minRequests),
            "summary": .string(summary(entry)),
        ]
        let interval = test.interval
        object["ratioInterval"] = .array([
            interval.lower > 0 ? .double(Self.rounded(interval.lower)) : .double(0),
            interval.upper.isFinite ? .double(Self.rounded(interval.upper)) : .null,
        ])
        if let estimate = test.estimate { object["ratio"] = .double(Self.rounded(estimate)) }
        if !notes.isEmpty { object["assumptions"] = .array(notes.map(JSONValue.string)) }
        return .object(object)
    }

    /// One line a person reads: "error rate 2.3× the baseline's (1.4×–3.9×), e = 140 ≥ 100: harm".
    public static func summary(_ entry: Entry) -> String {
        let test = entry.test
        let interval = test.interval
        let low = interval.lower > 0 ? "\(format(interval.lower))×" : "0×"
        let high = interval.upper.isFinite ? "\(format(interval.upper))×" : "∞"
        let ratio = test.estimate.map { "\(format($0))× the baseline's" } ?? "no baseline errors yet"
        let limit = test.bound == 1 ? "the baseline" : "\(format(test.bound))× the baseline"
        let level = "α = \(format(test.alpha * 100))%"
        let verdict: String
        switch entry.standing {
        case .harm: verdict = "worse than \(limit) at \(level)"
        case .noWorse: verdict = "shown no worse than \(limit) at \(level)"
        case .noEvidenceOfHarm: verdict = "no evidence of harm after \(test.candidateRequests) candidate requests"
        case .running: verdict = "judging"
        }
        return "\(entry.check.metric.rawValue) \(ratio) (interval \(low)–\(high)), "
            + "e = \(format(test.maxEValue)) of \(format(1 / test.alpha)) needed; \(verdict)"
    }

    static func format(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func rounded(_ value: Double) -> Double {
        guard value.isFinite else { return value > 0 ? 1e300 : 0 }
        if value == 0 { return 0 }
        let digits = 4 - Int(floor(log10(abs(value))))
        let scale = pow(10, Double(max(0, min(12, digits))))
        return (value * scale).rounded() / scale
    }
}
