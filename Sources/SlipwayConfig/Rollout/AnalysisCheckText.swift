import SlipwayCore
import Yams

/// Reads analysis checks written `METRIC OP VALUE`: `successRate >= 99%`, `errorRate < 0.01`, `p99 <= 300ms`,
/// `requests >= 10`.
enum AnalysisCheckText {
    /// The comparisons, as listed in messages.
    static let comparisons = ["<", "<=", ">", ">="]

    /// Why a text is not a check, phrased as a whole message.
    enum Problem: Error, Equatable {
        /// Not three parts: a metric, a comparison and a value.
        case malformed(String)
        /// The metric is not one of ``AnalysisMetric``'s.
        case unknownMetric(String)
        /// The comparison is not one of `<`, `<=`, `>`, `>=`.
        case unknownComparison(String)
        /// The value does not suit the metric.
        case badThreshold(AnalysisMetric, String)

        var message: String {
            switch self {
            case .malformed(let text):
                return "expected a check written METRIC OP VALUE, like `p99 <= 300ms`, got \(Node.quote(text))"
            case .unknownMetric(let name):
                let names = AnalysisMetric.allCases.filter { $0 != .query }.map(\.rawValue)
                if let suggestion = KeySuggestion.closest(to: name, among: names) {
                    return "unknown metric `\(name)`; did you mean `\(suggestion)`?"
                }
                return "unknown metric `\(name)`; expected one of " + names.map { "`\($0)`" }.joined(separator: ", ")
            case .unknownComparison(let text):
                let listed = AnalysisCheckText.comparisons.map { "`\($0)`" }.joined(separator: ", ")
                return "unknown comparison `\(text)`; expected one of \(listed)"
            case .badThreshold(let metric, let value):
                return "expected \(AnalysisCheckText.thresholdExpectation(metric)) after `\(metric.rawValue)`, "
                    + "got \(Node.quote(value))"
                    + (AnalysisCheckText.thresholdHint(metric, value).map { "; \($0)" } ?? "")
            }
        }
    }

    /// The check written in `text`; ``AnalysisCheck/text`` is `text` without surrounding spaces.
    static func parse(_ text: String) -> Result<AnalysisCheck, Problem> {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        let operatorCharacters: Set<Character> = ["<", ">", "=", "!"]
        var rest = Substring(trimmed)
        let metricText = rest.prefix { !$0.isWhitespace && !operatorCharacters.contains($0) }
        rest = rest[metricText.endIndex...].drop(while: \.isWhitespace)
        let comparisonText = rest.prefix { operatorCharacters.contains($0) }
        let valueText = rest[comparisonText.endIndex...].drop(while: \.isWhitespace)
        guard !metricText.isEmpty, !comparisonText.isEmpty, !valueText.isEmpty else {
            return .failure(.malformed(trimmed))
        }
        guard let metric = AnalysisMetric(rawValue: String(metricText)), metric != .query else {
            return .failure(.unknownMetric(String(metricText)))
        }
        guard let comparison = AnalysisCheck.Comparison(rawValue: String(comparisonText)) else {
            return .failure(.unknownComparison(String(comparisonText)))
        }
        guard let threshold = threshold(String(valueText), for: metric) else {
            return .failure(.badThreshold(metric, String(valueText)))
        }
        return .success(AnalysisCheck(metric: metric, comparison: comparison, threshold: threshold, text: trimmed))
    }

    /// The threshold in the check's unit: a fraction for rates, seconds for latencies, a count for `requests`.
    static func threshold(_ text: String, for metric: AnalysisMetric) -> Double? {
        switch metric {
        case .successRate, .errorRate:
            return rate(text)
        case .p50, .p90, .p95, .p99, .p999:
            return DurationText.parse(text)?.inSeconds
        case .requests:
            guard text.allSatisfy(\.isASCIIDigit), let count = Int(text) else { return nil }
            return Double(count)
        case .query:
            return Double(text).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    /// `99%`, `99.95%` or `0.99` as a fraction from 0 to 1.
    private static func rate(_ text: String) -> Double? {
        let isPercentage = text.hasSuffix("%")
        let number = isPercentage ? String(text.dropLast()) : text
        guard let (_, rest) = DecimalNumber.prefix(of: Substring(number)), rest.isEmpty else { return nil }
        // Shifting the decimal point in the text keeps `99.95%` exactly the nearest double to 0.9995.
        guard let value = Double(isPercentage ? number + "e-2" : number), value <= 1 else { return nil }
        return value
    }

    /// What a threshold of `metric` looks like, phrased to follow "expected".
    static func thresholdExpectation(_ metric: AnalysisMetric) -> String {
        switch metric {
        case .successRate, .errorRate: return "a percentage like 99% or a fraction from 0 to 1 like 0.99"
        case .p50, .p90, .p95, .p99, .p999: return "a duration like 300ms or 1.5s"
        case .requests: return "a whole number of requests like 10"
        case .query: return "a number"
        }
    }

    /// A likely fix for a rejected threshold: a percentage sign or a unit left out.
    private static func thresholdHint(_ metric: AnalysisMetric, _ value: String) -> String? {
        guard let (_, rest) = DecimalNumber.prefix(of: Substring(value)), rest.isEmpty else { return nil }
        switch metric {
        case .successRate, .errorRate:
            return rate(value + "%") == nil ? nil : "did you mean `\(value)%`?"
        case .p50, .p90, .p95, .p99, .p999:
            return "did you mean `\(value)ms` or `\(value)s`?"
        case .requests, .query:
            return nil
        }
    }
}
