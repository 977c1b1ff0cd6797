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

    /// One test of a comparison: what it counts, and the test.
    public struct Part: Sendable, Equatable {
        /// What counts as an event: `errors`, `2xx`, `slower than 212ms`.
        public var name: String
        /// The response class it counts (statusClasses), if any.
        public var responseClass: Int?
        /// Its test.
        public var test: RateRatioTest
    }

    /// One comparison and its tests.
    public struct Entry: Sendable, Equatable {
        /// The comparison as configured.
        public var check: ComparisonCheck
        /// Its tests (one, or one per response class and direction); each at a share of alpha, so that together
        /// they keep it.
        public var parts: [Part]
        /// For `latency`: the latency a request must exceed to count, once known.
        public var limit: Duration?
        /// For `latency` without `slowerThan`: the stable version's latencies until its p99 is frozen.
        var baselineLatencies = LatencyCounts()
        /// For `latencyDistribution`: the sequential Kolmogorov–Smirnov test.
        public var distribution: SequentialKS?

        /// Where it stands.
        public var standing: Standing {
            if let distribution {
                if distribution.harmful { return .harm }
                return distribution.candidate.total >= check.minRequests ? .noEvidenceOfHarm : .running
            }
            if parts.contains(where: \.test.harmful) { return .harm }
            guard !parts.isEmpty else { return .running }
            if parts.allSatisfy(\.test.noWorse) { return .noWorse }
            if candidateRequests >= check.minRequests { return .noEvidenceOfHarm }
            return .running
        }

        /// Counts requests slower than `limit` from now on.
        mutating func freeze(_ limit: Duration, alpha: Double) {
            self.limit = limit
            let test = RateRatioTest(alpha: alpha, bound: check.bound)
            parts = [Part(name: "slower than \(DurationText.format(limit))", responseClass: nil, test: test)]
        }

        /// The candidate requests judged.
        public var candidateRequests: Int {
            distribution?.candidate.total ?? parts.first?.test.candidateRequests ?? 0
        }

        /// Whether it found harm.
        public var harmful: Bool { distribution?.harmful ?? parts.contains(where: \.test.harmful) }

        /// The part that decides what the entry shows: a harmful one, else the one with the most evidence.
        public var decisive: Part? {
            parts.first(where: \.test.harmful) ?? parts.max { $0.test.maxEValue < $1.test.maxEValue }
        }
    }

    /// Baseline requests whose latencies freeze the stable version's p99 for `latency` comparisons.
    public static let latencySample = 200

    /// The comparisons, in the order written.
    public private(set) var entries: [Entry]
    /// The level every comparison keeps.
    public let alpha: Double
    /// The version judged and its baseline.
    public let candidate: String
    public let baseline: String
    /// What the evidence assumes that the routing may not give (sticky users, match rules), for the decisions.
    public let notes: [String]

    /// Comparisons of `candidate` with `baseline` at level `alpha`.
    public init(checks: [ComparisonCheck], alpha: Double, candidate: String, baseline: String, notes: [String] = []) {
        self.entries = checks.map { Self.entry($0, alpha: alpha) }
        self.alpha = alpha
        self.candidate = candidate
        self.baseline = baseline
        self.notes = notes
    }

    static func entry(_ check: ComparisonCheck, alpha: Double) -> Entry {
        switch check.metric {
        case .errorRate:
            let test = RateRatioTest(alpha: alpha, bound: check.bound)
            return Entry(check: check, parts: [Part(name: "errors", responseClass: nil, test: test)])
        case .statusClasses:
            // Four classes, each may move up or down: eight tests at alpha / 8 each.
            var parts: [Part] = []
            for digit in 2...5 {
                for direction in [RateRatioTest.Direction.increase, .decrease] {
                    let bound = direction == .increase ? check.bound : 1 / check.bound
                    let test = RateRatioTest(alpha: alpha / 8, bound: bound, direction: direction)
                    parts.append(Part(name: "\(digit)xx", responseClass: digit, test: test))
                }
            }
            return Entry(check: check, parts: parts)
        case .latencyDistribution:
            var entry = Entry(check: check, parts: [], limit: nil)
            entry.distribution = SequentialKS(alpha: alpha)
            return entry
        case .latency:
            var entry = Entry(check: check, parts: [], limit: nil)
            if let limit = check.slowerThan { entry.freeze(limit, alpha: alpha) }
            return entry
        }
    }

    /// Adds one window's traffic of both versions.
    public mutating func observe(_ window: MetricsWindow) {
        let candidateTraffic = window[candidate]
        let baselineTraffic = window[baseline]
        for index in entries.indices {
            var entry = entries[index]
            switch entry.check.metric {
            case .errorRate:
                // The data plane's comparison units when it counts them for both versions (no rule-chosen requests, a
                // sticky user once), else every request of both: never one of each.
                let both = candidateTraffic.units.flatMap { candidate in baselineTraffic.units.map { (candidate, $0) } }
                let (candidateUnits, baselineUnits) =
                    both
                    ?? (
                        ComparisonUnits(units: candidateTraffic.requests, bad: candidateTraffic.errors),
                        ComparisonUnits(units: baselineTraffic.requests, bad: baselineTraffic.errors)
                    )
                entry.parts[0].test.observe(
                    candidate: candidateUnits.bad,
                    baseline: baselineUnits.bad,
                    candidateRequests: candidateUnits.units,
                    baselineRequests: baselineUnits.units
                )
            case .statusClasses:
                guard !candidateTraffic.classes.isEmpty || candidateTraffic.requests == 0,
                    !baselineTraffic.classes.isEmpty
                else { break }
                for part in entry.parts.indices {
                    let digit = entry.parts[part].responseClass ?? 5
                    entry.parts[part].test.observe(
                        candidate: candidateTraffic.responses(ofClass: digit),
                        baseline: baselineTraffic.responses(ofClass: digit),
                        candidateRequests: candidateTraffic.requests,
                        baselineRequests: baselineTraffic.requests
                    )
                }
            case .latencyDistribution:
                entry.distribution?.observe(
                    candidate: candidateTraffic.latencyCounts,
                    baseline: baselineTraffic.latencyCounts
                )
            case .latency:
                guard let limit = entry.limit else {
                    // The limit comes from the stable version's own latencies; the windows it came from are not
                    // counted, so that it does not depend on what it judges.
                    entry.baselineLatencies = entry.baselineLatencies.adding(baselineTraffic.latencyCounts)
                    if entry.baselineLatencies.total >= Self.latencySample,
                        let p99 = entry.baselineLatencies.latency(quantile: 0.99)
                    {
                        entry.freeze(p99, alpha: alpha)
                    }
                    break
                }
                entry.parts[0].test.observe(
                    candidate: candidateTraffic.latencyCounts.count(slowerThan: limit),
                    baseline: baselineTraffic.latencyCounts.count(slowerThan: limit),
                    candidateRequests: candidateTraffic.latencyCounts.total,
                    baselineRequests: baselineTraffic.latencyCounts.total
                )
            }
            entries[index] = entry
        }
    }

    /// The comparisons that found harm.
    public var harmful: [Entry] { entries.filter(\.harmful) }

    /// Whether every comparison lets a step pass (shown no worse, or its minimum sample met without harm).
    public var passes: Bool {
        entries.allSatisfy { $0.standing == .noWorse || $0.standing == .noEvidenceOfHarm }
    }

    /// The evidence of every comparison, as event fields.
    public var fields: JSONValue {
        .array(entries.map { Self.fields(of: $0, candidate: candidate, baseline: baseline, notes: notes) })
    }

    static func fields(of entry: Entry, candidate: String, baseline: String, notes: [String]) -> JSONValue {
        var object: [String: JSONValue] = [
            "compare": .string(entry.check.text),
            "standing": .string(entry.standing.rawValue),
            "minRequests": .int(entry.check.minRequests),
            "summary": .string(summary(entry)),
        ]
        if let limit = entry.limit {
            object["slowerThanMs"] = .double(rounded(Double(limit.microsecondsRoundedDown) / 1000))
        }
        if let part = entry.decisive {
            for (key, value) in fields(of: part, candidate: candidate, baseline: baseline) { object[key] = value }
        }
        if let distribution = entry.distribution {
            let gap = distribution.largestGap
            object["statistic"] = .double(rounded(gap.gap))
            object["band"] = distribution.band.isFinite ? .double(rounded(distribution.band)) : .null
            if let at = gap.at { object["atMs"] = .double(rounded(Double(at.microsecondsRoundedDown) / 1000)) }
            object["alpha"] = .double(distribution.alpha)
            object["candidate"] = .object([
                "version": .string(candidate), "requests": .int(distribution.candidate.total),
            ])
            object["baseline"] = .object(["version": .string(baseline), "requests": .int(distribution.baseline.total)])
        }
        if entry.parts.count > 1 {
            object["parts"] = .array(
                entry.parts.map { .object(fields(of: $0, candidate: candidate, baseline: baseline)) }
            )
        }
        if !notes.isEmpty { object["assumptions"] = .array(notes.map(JSONValue.string)) }
        return .object(object)
    }

    static func fields(of part: Part, candidate: String, baseline: String) -> [String: JSONValue] {
        let test = part.test
        var object: [String: JSONValue] = [
            "events": .string(part.name),
            "direction": .string(test.direction.rawValue),
            "eValue": .double(rounded(test.eValue)),
            "maxEValue": .double(rounded(test.maxEValue)),
            "threshold": .double(rounded(1 / test.alpha)),
            "pValue": .double(rounded(test.pValue)),
            "alpha": .double(rounded(test.alpha)),
            "bound": .double(rounded(test.bound)),
            "candidate": .object([
                "version": .string(candidate), "requests": .int(test.candidateRequests),
                "events": .int(test.candidateEvents),
            ]),
            "baseline": .object([
                "version": .string(baseline), "requests": .int(test.baselineRequests),
                "events": .int(test.baselineEvents),
            ]),
        ]
        let interval = test.interval
        object["ratioInterval"] = .array([
            interval.lower > 0 ? .double(rounded(interval.lower)) : .double(0),
            interval.upper.isFinite ? .double(rounded(interval.upper)) : .null,
        ])
        if let estimate = test.estimate { object["ratio"] = .double(rounded(estimate)) }
        return object
    }

    /// One line a person reads: "errorRate 2.3× the baseline's (interval 1.4×–3.9×), e = 140 of 100 needed; worse
    /// than the baseline at α = 1%".
    public static func summary(_ entry: Entry) -> String {
        if let distribution = entry.distribution { return summary(distribution, entry.standing) }
        guard let part = entry.decisive else {
            return "\(entry.check.text): waiting for \(latencySample) requests of the stable version to freeze its p99"
        }
        let test = part.test
        let interval = test.interval
        let low = interval.lower > 0 ? "\(format(interval.lower))×" : "0×"
        let high = interval.upper.isFinite ? "\(format(interval.upper))×" : "∞"
        let ratio = test.estimate.map { "\(format($0))× the baseline's" } ?? "none on the baseline yet"
        let limit = test.bound == 1 ? "the baseline" : "\(format(test.bound))× the baseline"
        let level = "α = \(format(test.alpha * 100))%"
        let verdict: String
        switch entry.standing {
        case .harm: verdict = "\(test.direction == .increase ? "worse than" : "below") \(limit) at \(level)"
        case .noWorse: verdict = "shown no worse than \(limit) at \(level)"
        case .noEvidenceOfHarm: verdict = "no evidence of harm after \(test.candidateRequests) candidate requests"
        case .running: verdict = "judging"
        }
        let what: String
        switch entry.check.metric {
        case .errorRate: what = "errorRate"
        case .latencyDistribution: what = "latency distribution"
        case .statusClasses: what = "\(part.name) share"
        case .latency: what = "share slower than \(entry.limit.map { DurationText.format($0) } ?? "?")"
        }
        return "\(what) \(ratio) (interval \(low)–\(high)), e = \(format(test.maxEValue)) of "
            + "\(format(1 / test.alpha)) needed; \(verdict)"
    }

    static func summary(_ test: SequentialKS, _ standing: Standing) -> String {
        let gap = test.largestGap
        let at = gap.at.map { " at \(DurationText.format($0))" } ?? ""
        let band = test.band.isFinite ? format(test.band) : "undefined before \(SequentialKS.minimumSamples) requests"
        let verdict: String
        switch standing {
        case .harm: verdict = "slower than the baseline at α = \(format(test.alpha * 100))%"
        case .noEvidenceOfHarm: verdict = "no evidence of harm after \(test.candidate.total) candidate requests"
        case .noWorse, .running: verdict = "judging"
        }
        return "latency distribution: the baseline's exceeds the candidate's by \(format(gap.gap))\(at) (band \(band), "
            + "\(test.candidate.total) and \(test.baseline.total) requests); \(verdict)"
    }

    static func format(_ value: Double) -> String {
        if !value.isFinite { return value > 0 ? "∞" : "0" }
        if value >= 1e6 { return String(format: "%.2g", value) }
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
