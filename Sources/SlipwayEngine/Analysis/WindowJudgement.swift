import SlipwayConfig
import SlipwayCore

/// The outcome of one check, or of one window.
public enum Verdict: String, Sendable, Equatable {
    /// The check held with enough requests.
    case pass
    /// The check did not hold with enough requests.
    case fail
    /// Too few requests to judge.
    case inconclusive
}

/// One check judged on one window, with its evidence.
public struct CheckResult: Sendable, Equatable {
    /// The check.
    public var check: AnalysisCheck
    /// What was decided.
    public var verdict: Verdict
    /// The measured value (fraction, seconds or count); nil when nothing was measured.
    public var value: Double?
    /// The candidate's requests in the window.
    public var requests: Int
    /// The requests the check needed.
    public var minRequests: Int
    /// Why a query check is inconclusive (the metric source's answer); nil otherwise.
    public var reason: String? = nil

    /// The evidence as event fields: the check as written, its threshold, the value, the sample size.
    public var fields: JSONValue {
        var object: [String: JSONValue] = [
            "check": .string(check.text),
            "verdict": .string(verdict.rawValue),
            "threshold": .string(Self.format(check.threshold, check.metric)),
            "requests": .int(requests),
            "minRequests": .int(minRequests),
        ]
        if let value { object["value"] = .string(Self.format(value, check.metric)) }
        if let query = check.query { object["query"] = .string(query) }
        if let reason { object["reason"] = .string(reason) }
        return .object(object)
    }

    /// A value as a user reads it: `97.5%`, `312ms`, `40`.
    public static func format(_ value: Double, _ metric: AnalysisMetric) -> String {
        switch metric {
        case .requests:
            return String(Int(value.rounded()))
        case .successRate, .errorRate:
            let hundredths = Int((value * 10_000).rounded())
            return Percentage(basisPoints: max(0, min(10_000, hundredths))).description
        case .p50, .p90, .p95, .p99, .p999:
            return DurationText.format(.milliseconds(Int64((value * 1000).rounded())))
        case .query:
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }
}

/// A set of checks judged on one window of one version.
public struct WindowJudgement: Sendable, Equatable {
    /// Fail when any check failed; else inconclusive when any check was; else pass.
    public var verdict: Verdict
    /// Each check's result, in the order the checks were written.
    public var results: [CheckResult]
    /// The version judged.
    public var version: String
    /// The window's bounds.
    public var start: Moment
    public var end: Moment

    /// Judges `checks` on `version`'s traffic in `window`; a check without its own minimum needs `minRequests`.
    public init(checks: [AnalysisCheck], minRequests: Int, version: String, window: MetricsWindow) {
        let traffic = window[version]
        var results: [CheckResult] = []
        for check in checks {
            if let query = check.query {
                let answer = window.queries[QueryRequest(query, version: version)]
                results.append(Self.judge(check, answer: answer, requests: traffic.requests))
                continue
            }
            let needed = check.minRequests ?? minRequests
            let value = traffic.value(of: check.metric)
            let verdict: Verdict
            if check.metric == .requests {
                verdict = check.holds(for: Double(traffic.requests)) ? .pass : .fail
            } else if traffic.requests < needed || value == nil {
                verdict = .inconclusive
            } else {
                verdict = check.holds(for: value!) ? .pass : .fail
            }
            results.append(
                CheckResult(
                    check: check,
                    verdict: verdict,
                    value: value,
                    requests: traffic.requests,
                    minRequests: needed
                )
            )
        }
        if results.contains(where: { $0.verdict == .fail }) {
            self.verdict = .fail
        } else if results.contains(where: { $0.verdict == .inconclusive }) {
            self.verdict = .inconclusive
        } else {
            self.verdict = .pass
        }
        self.results = results
        self.version = version
        self.start = window.start
        self.end = window.end
    }

    /// A query check: its answer against its bound; no answer, or too few requests when the check asks for some,
    /// is inconclusive.
    private static func judge(_ check: AnalysisCheck, answer: QueryAnswer?, requests: Int) -> CheckResult {
        let needed = check.minRequests ?? 0
        var result = CheckResult(
            check: check,
            verdict: .inconclusive,
            value: nil,
            requests: requests,
            minRequests: needed
        )
        switch answer {
        case .value(let value):
            result.value = value
            if requests < needed {
                result.reason = "\(requests) of \(needed) requests needed"
            } else {
                result.verdict = check.holds(for: value) ? .pass : .fail
            }
        case .unavailable(let reason):
            result.reason = reason
        case nil:
            result.reason = "the query was not evaluated"
        }
        return result
    }

    /// The failing checks, as written.
    public var failing: [CheckResult] { results.filter { $0.verdict == .fail } }

    /// One line for people: `successRate >= 99%: 97.5% over 400 requests (fail)`.
    public var summary: String {
        results.map { result in
            let value = result.value.map { CheckResult.format($0, result.check.metric) } ?? "no data"
            if result.check.query != nil {
                return "\(result.check.text): \(result.reason ?? value) (\(result.verdict.rawValue))"
            }
            let sample =
                result.verdict == .inconclusive
                ? "\(result.requests) of \(result.minRequests) requests needed" : "\(result.requests) requests"
            return "\(result.check.text): \(value) over \(sample) (\(result.verdict.rawValue))"
        }.joined(separator: "; ")
    }

    /// The evidence as event fields.
    public var fields: [String: JSONValue] {
        [
            "verdict": .string(verdict.rawValue),
            "version": .string(version),
            "checks": .array(results.map(\.fields)),
            "windowStartMs": .int(Int(start.sinceOrigin.milliseconds)),
            "windowMs": .int(Int((end - start).milliseconds)),
            "summary": .string(summary),
        ]
    }
}
