import Foundation
import SlipwayCore
import Yams

/// The optional `analysis` section of an app, the analysis steps of the strategies, and their checks.
extension ConfigDecoder {
    /// The largest `minRequests` accepted.
    private static let requestCounts = 1...1_000_000

    /// `apps[n].analysis`.
    func analysis(_ entry: Entry?) -> AnalysisSpec {
        var spec = AnalysisSpec()
        guard let fields = optionalFields(entry, schema: .analysis) else { return spec }
        if let value = fields["interval"].flatMap({ duration($0, positive: true) }) {
            spec.interval = value
        }
        if let value = fields["minRequests"].flatMap({ integer($0, in: Self.requestCounts) }) {
            spec.minRequests = value
        }
        if let value = fields["checks"].flatMap({ checks($0, allowsEmpty: true) }) {
            spec.checks = value
        }
        // An empty list is how fail-fast is turned off.
        if let value = fields["failFast"].flatMap({ checks($0, allowsEmpty: true) }) {
            spec.failFast = value
        }
        if let entry = fields["compare"], let value = comparisons(entry) {
            spec.compare = value
        }
        if spec.checks.isEmpty, spec.compare.isEmpty, let entry = fields["checks"] {
            // Analysis steps would pass without judging anything.
            reportExpected("at least one check (an empty list is only allowed with `compare`)", entry)
        }
        if let entry = fields["alpha"],
            let value = percent(entry, in: 1...2_000, expectation: "a level like 1% or 5% (above 0%, at most 20%)")
        {
            spec.alpha = value
        }
        return spec
    }

    /// `analysis.compare`: a list of comparisons; nil when it or any of its entries is rejected.
    private func comparisons(_ entry: Entry) -> [ComparisonCheck]? {
        let expectation =
            "a list of comparisons like [errorRate, statusClasses] or [{metric: latency, slowerThan: 300ms}]"
        guard case .sequence(let sequence) = entry.value else {
            reportExpected(expectation, entry, hint: entry.value.scalarText.map { "write it as a list: [\($0)]" })
            return nil
        }
        var comparisons: [ComparisonCheck] = []
        var valid = true
        for (index, element) in sequence.enumerated() {
            if let comparison = comparison(.element(element, at: KeyPath.element(entry.path, index))) {
                comparisons.append(comparison)
            } else {
                valid = false
            }
        }
        return valid ? comparisons : nil
    }

    /// One comparison: `errorRate`, or `{metric: errorRate, maxIncrease: 50%, minRequests: 1000}`.
    private func comparison(_ entry: Entry) -> ComparisonCheck? {
        guard case .mapping = entry.value else { return comparisonMetric(entry).map { ComparisonCheck(metric: $0) } }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .comparison) else { return nil }
        let metric = require("metric", in: fields).flatMap(comparisonMetric)
        var maxIncrease = 0.0
        if let entry = fields["maxIncrease"] {
            guard
                let value = percent(
                    entry,
                    in: 0...100_000,
                    expectation: "a relative increase like 0%, 20% or 100% (at most 1000%)"
                )
            else {
                return nil
            }
            maxIncrease = value
        }
        var minRequests = ComparisonCheck.defaultMinRequests
        if let entry = fields["minRequests"] {
            guard let value = integer(entry, in: Self.requestCounts) else { return nil }
            minRequests = value
        }
        var slowerThan: Duration?
        if let entry = fields["slowerThan"] {
            guard metric == .latency || metric == nil else {
                report(entry.value.location, entry.path, "`slowerThan` is only for `metric: latency`")
                return nil
            }
            guard let value = duration(entry, positive: true) else { return nil }
            slowerThan = value
        }
        return metric.map {
            ComparisonCheck(metric: $0, maxIncrease: maxIncrease, minRequests: minRequests, slowerThan: slowerThan)
        }
    }

    private func comparisonMetric(_ entry: Entry) -> ComparisonCheck.Metric? {
        let names = ComparisonCheck.Metric.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = entry.value.scalarText, let metric = ComparisonCheck.Metric(rawValue: text) else {
            reportExpected("a metric to compare with the stable version: \(names)", entry)
            return nil
        }
        return metric
    }

    /// A percentage written `1%` or `2.5%` (hundredths of a percent in `range`), as a fraction.
    func percent(_ entry: Entry, in range: ClosedRange<Int>, expectation: String) -> Double? {
        guard let text = entry.value.scalarText, text.hasSuffix("%"),
            let (number, rest) = DecimalNumber.prefix(of: text.dropLast()), rest.isEmpty,
            let hundredths = number.scaled(by: 100), range.contains(Int(clamping: hundredths))
        else {
            reportExpected(expectation, entry)
            return nil
        }
        return Double(Int(hundredths)) / 10_000
    }

    /// An analysis step: `{windows, failureLimit, checks}`; `{}` or no value for the defaults.
    func analysisStep(_ entry: Entry) -> AnalysisStepSpec {
        var spec = AnalysisStepSpec()
        guard let fields = optionalFields(entry, schema: .analysisStep) else { return spec }
        if let value = fields["windows"].flatMap({ integer($0, in: 1...1000) }) {
            spec.windows = value
        }
        if let value = fields["failureLimit"].flatMap({ integer($0, in: 0...1000) }) {
            spec.failureLimit = value
        }
        if let value = fields["checks"].flatMap({ checks($0, allowsEmpty: false) }) {
            spec.checks = value
        }
        return spec
    }

    /// A list of checks; nil when the list or any of its checks is rejected.
    func checks(_ entry: Entry, allowsEmpty: Bool) -> [AnalysisCheck]? {
        let expectation = "a list of checks like [\"successRate >= 99%\", \"p99 <= 300ms\"]"
        guard case .sequence(let sequence) = entry.value else {
            let hint = entry.value.scalarText.map { "write a single check as a list: [\(Node.quote($0))]" }
            reportExpected(expectation, entry, hint: hint)
            return nil
        }
        if sequence.isEmpty && !allowsEmpty {
            reportExpected("at least one check", entry)
            return nil
        }
        var checks: [AnalysisCheck] = []
        var valid = true
        for (index, element) in sequence.enumerated() {
            if let check = check(.element(element, at: KeyPath.element(entry.path, index))) {
                checks.append(check)
            } else {
                valid = false
            }
        }
        return valid ? checks : nil
    }

    /// One check: `"p99 <= 300ms"` or `{check: "p99 <= 300ms", minRequests: 50}`.
    private func check(_ entry: Entry) -> AnalysisCheck? {
        if case .mapping = entry.value {
            guard let fields = fields(of: entry.value, at: entry.path, schema: .check) else { return nil }
            if fields["query"] != nil { return queryCheck(fields, at: entry) }
            for name in ["max", "min", "name"] {
                if let stray = fields[name] {
                    report(stray.key.location, stray.path, "`\(name)` is only for `query` checks")
                    return nil
                }
            }
            var check = require("check", in: fields).flatMap(checkText)
            // Read even when the check itself is wrong, so that both problems are reported.
            if let entry = fields["minRequests"] {
                guard let minRequests = integer(entry, in: Self.requestCounts) else { return nil }
                check?.minRequests = minRequests
            }
            return check
        }
        guard !entry.value.isNull, entry.value.scalarText != nil else {
            let expectation =
                "a check like \"p99 <= 300ms\" or a mapping like {check: \"p99 <= 300ms\", minRequests: 50}"
            reportExpected(expectation, entry)
            return nil
        }
        return checkText(entry)
    }

    /// `{query: "PromQL", max: 0.01}` or `{query: …, min: 100, name: "orders per second"}`: a PromQL query's value
    /// against a bound, with placeholders (``Placeholders/query``).
    private func queryCheck(_ fields: Fields, at entry: Entry) -> AnalysisCheck? {
        var valid = true
        if let stray = fields["check"] {
            report(
                stray.key.location,
                stray.path,
                "`query` and `check` cannot both be set; name a query check with `name`"
            )
            valid = false
        }
        let query = fields["query"].flatMap { query in
            let text = string(
                query,
                matching: { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
                expectation: "a PromQL query"
            )
            for problem in text.map(Placeholders.query.problems) ?? [] {
                report(query.value.location, query.path, problem)
                valid = false
            }
            return text
        }
        let bound = exactlyOne(of: ["max", "min"], in: fields, advice: "write a range as two checks")
        var threshold: Double?
        if let bound {
            let isNumber = [Tag.Name.int, .float].map(\.rawValue).contains(bound.value.tagName)
            threshold = isNumber ? bound.value.scalarText.flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } : nil
            if threshold == nil { reportExpected("a number like 0.01 or 250", bound) }
        }
        var name: String?
        if let entry = fields["name"] {
            name = string(entry, matching: { !$0.isEmpty }, expectation: "a name for people, like \"error ratio\"")
            if name == nil { valid = false }
        }
        var minRequests: Int?
        if let entry = fields["minRequests"] {
            minRequests = integer(entry, in: Self.requestCounts)
            if minRequests == nil { valid = false }
        }
        guard valid, let query, let bound, let threshold else { return nil }
        queryChecks.append((fields["query"]!.value.location, fields["query"]!.path))
        let comparison: AnalysisCheck.Comparison = bound.name == "max" ? .lessThanOrEqual : .greaterThanOrEqual
        let number = bound.value.scalarText ?? String(threshold)
        return AnalysisCheck(
            metric: .query,
            comparison: comparison,
            threshold: threshold,
            minRequests: minRequests,
            text: name ?? "query \(comparison.rawValue) \(number)",
            query: query
        )
    }

    /// The text of a check: `METRIC OP VALUE`.
    private func checkText(_ entry: Entry) -> AnalysisCheck? {
        guard let text = entry.value.scalarText else {
            reportExpected("a check like \"p99 <= 300ms\"", entry)
            return nil
        }
        switch AnalysisCheckText.parse(text) {
        case .success(let check):
            return check
        case .failure(let problem):
            report(entry.value.location, entry.path, problem.message)
            return nil
        }
    }
}
