import Foundation
import Yams

/// `strategy.canary`: its steps, candidate instances, match rules and stickiness.
extension ConfigDecoder {
    /// The keys of a step, exactly one of which is written in each.
    private static let stepKinds = ["weight", "pause", "analysis", "mirror", "chaos"]

    /// `strategy.canary`; `appInstances` is the app's instance count, nil when it was rejected.
    func canary(_ entry: Entry, appInstances: Int?) -> CanarySpec {
        guard let fields = optionalFields(entry, schema: .canary) else { return CanarySpec(steps: []) }
        var spec = CanarySpec(steps: require("steps", in: fields).flatMap(canarySteps) ?? [])
        if let value = fields["instances"].flatMap({ candidateInstances($0, appInstances: appInstances) }) {
            spec.instances = value
        }
        if let value = fields["match"].flatMap(matchRules) {
            spec.match = value
        }
        spec.stickiness = fields["stickiness"].flatMap(stickiness)
        return spec
    }

    /// `canary.steps`: a non-empty list of steps whose weights never go down.
    private func canarySteps(_ entry: Entry) -> [CanarySpec.Step]? {
        let expectation = "a list of steps like [{weight: 10}, {pause: 5m}, {weight: 50}]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        guard !elements.isEmpty else {
            reportExpected("at least one step", entry)
            return nil
        }
        var steps: [CanarySpec.Step] = []
        var valid = true
        var highest: (weight: Percentage, index: Int)?
        for (index, element) in elements.enumerated() {
            guard let (step, stepEntry) = canaryStep(.element(element, at: KeyPath.element(entry.path, index))) else {
                valid = false
                continue
            }
            if case .weight(let weight) = step {
                if let highest, weight < highest.weight {
                    let message =
                        "weight \(weight) is lower than the earlier weight \(highest.weight) (steps[\(highest.index)]); "
                        + "weights only go up"
                    report(stepEntry.value.location, stepEntry.path, message)
                    valid = false
                } else {
                    highest = (weight, index)
                }
            }
            if case .chaos = step, (highest?.weight.basisPoints ?? 0) == 0 {
                let message =
                    "a chaos step compares the candidate's users with the stable version's: "
                    + "put a weight above 0 before it"
                report(stepEntry.value.location, stepEntry.path, message)
                valid = false
            }
            if case .chaos = step, highest?.weight.basisPoints == 10_000 {
                let message =
                    "a chaos step compares the candidate's users with the stable version's: "
                    + "it needs a weight below 100 in force, not 100"
                report(stepEntry.value.location, stepEntry.path, message)
                valid = false
            }
            steps.append(step)
        }
        return valid ? steps : nil
    }

    /// One step: a mapping with exactly one of `weight`, `pause`, `analysis`, `mirror` or `chaos`; returned with the entry of that key.
    private func canaryStep(_ entry: Entry) -> (step: CanarySpec.Step, entry: Entry)? {
        guard case .mapping(let mapping) = entry.value else {
            reportExpected(
                "a step like {weight: 10}, {pause: 30s}, {analysis: {}} or {mirror: {share: 50%, duration: 2m}}",
                entry
            )
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .canaryStep) else { return nil }
        // Keys rejected as unknown have been reported already.
        let advice = "write each step as its own list entry"
        guard let kind = exactlyOne(of: Self.stepKinds, in: fields, advice: advice, reportingNone: mapping.isEmpty)
        else { return nil }
        let step: CanarySpec.Step?
        switch kind.name {
        case "weight":
            step = weight(kind).map(CanarySpec.Step.weight)
        case "pause":
            step = pause(kind)
        case "mirror":
            step = mirrorStep(kind).map(CanarySpec.Step.mirror)
        case "chaos":
            step = chaosStep(kind).map(CanarySpec.Step.chaos)
        default:
            step = .analysis(analysisStep(kind))
        }
        return step.map { ($0, kind) }
    }

    /// `weight: 10`, `weight: 12.5` or `weight: 25%`.
    func weight(_ entry: Entry) -> Percentage? {
        let isNumber = [Tag.Name.int, .float].map(\.rawValue).contains(entry.value.tagName)
        let percentage = entry.value.scalarText.flatMap { text in
            text.hasSuffix("%") ? Percentage.parse(text) : isNumber ? Percentage.parse(text + "%") : nil
        }
        guard let percentage else {
            reportExpected("a weight from 0 to 100 with at most two decimals, like 10, 12.5 or 25%", entry)
            return nil
        }
        return percentage
    }

    /// `pause: 30s`, or `pause: {}` (or no value) to wait for `promote`.
    private func pause(_ entry: Entry) -> CanarySpec.Step? {
        if entry.value.isNull {
            return .pause(nil)
        }
        if case .mapping(let mapping) = entry.value {
            guard mapping.isEmpty else {
                reportExpected("a duration like 30s, or {} to wait for `promote`", entry)
                return nil
            }
            return .pause(nil)
        }
        guard let duration = duration(entry, positive: false) else { return nil }
        guard duration > .zero else {
            reportExpected("a duration greater than 0", entry, hint: "write `pause: {}` to wait for `promote`")
            return nil
        }
        return .pause(duration)
    }

    /// `canary.instances`: a number from 1 to the app's instance count, or `scaled`.
    func candidateInstances(_ entry: Entry, appInstances: Int?) -> CanarySpec.CandidateInstances? {
        if entry.value.scalarText == "scaled" {
            return .scaled
        }
        guard entry.value.tagName == Tag.Name.int.rawValue, let text = entry.value.scalarText,
            text.allSatisfy(\.isASCIIDigit), let count = Int(text), (1...1000).contains(count)
        else {
            reportExpected("an integer from 1 to 1000 or `scaled`", entry)
            return nil
        }
        if let appInstances, count > appInstances {
            report(
                entry.value.location,
                entry.path,
                "instances \(count) must not be more than the app's instances \(appInstances)"
            )
            return nil
        }
        return .fixed(count)
    }

    /// `canary.match`: a list of rules.
    func matchRules(_ entry: Entry) -> [MatchSpec]? {
        let expectation = "a list of rules like [{header: {name: X-Beta, value: \"1\"}}]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        let rules = elements.enumerated().map { index, element in
            matchRule(.element(element, at: KeyPath.element(entry.path, index)))
        }
        let accepted = rules.compactMap { $0 }
        return accepted.count == rules.count ? accepted : nil
    }

    /// One rule: `{header: {…}}` or `{cookie: {…}}`.
    private func matchRule(_ entry: Entry) -> MatchSpec? {
        guard case .mapping = entry.value else {
            reportExpected(
                "a rule like {header: {name: X-Beta, value: \"1\"}} or {cookie: {name: beta, value: \"1\"}}",
                entry
            )
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .matchRule),
            let kind = exactlyOne(
                of: ["header", "cookie"],
                in: fields,
                advice: "write each rule as its own list entry"
            )
        else { return nil }
        let condition = kind.name == "header" ? headerCondition(kind) : cookieCondition(kind)
        return condition.map(MatchSpec.init)
    }

    /// `header: {name: X-Internal, value: "true"}` or `header: {name: X-User, pattern: "^qa-.*"}`.
    private func headerCondition(_ entry: Entry) -> MatchSpec.Condition? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {name: X-Beta, value: \"1\"} or {name: X-User, pattern: \"^qa-.*\"}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .headerMatch) else { return nil }
        let name = require("name", in: fields).flatMap {
            string($0, matching: NameRules.isHTTPToken, expectation: "a header name like X-Internal-User")
        }
        guard let test = exactlyOne(of: ["value", "pattern"], in: fields) else { return nil }
        if test.name == "value" {
            let expectation = "a header value without line breaks or control characters"
            let value = string(test, matching: isHeaderValue, expectation: expectation)
            guard let name, let value else { return nil }
            return .headerEquals(name: name, value: value)
        }
        let pattern = string(test, matching: isRegularExpression, expectation: "a regular expression")
        guard let name, let pattern else { return nil }
        return .headerMatches(name: name, pattern: pattern)
    }

    /// `cookie: {name: beta, value: "1"}`.
    private func cookieCondition(_ entry: Entry) -> MatchSpec.Condition? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {name: beta, value: \"1\"}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .cookieMatch) else { return nil }
        let name = require("name", in: fields).flatMap {
            string($0, matching: NameRules.isHTTPToken, expectation: "a cookie name like beta")
        }
        let value = require("value", in: fields).flatMap {
            let expectation = "a cookie value without spaces, quotes, commas, semicolons or backslashes"
            return string($0, matching: NameRules.isCookieValue, expectation: expectation)
        }
        guard let name, let value else { return nil }
        return .cookieEquals(name: name, value: value)
    }

    /// `canary.stickiness`: `{cookie: slipway-bucket}` or `{header: X-User-Id}`.
    func stickiness(_ entry: Entry) -> StickinessSpec? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {cookie: slipway-bucket} or {header: X-User-Id}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .stickiness),
            let kind = exactlyOne(of: ["cookie", "header"], in: fields)
        else { return nil }
        if kind.name == "cookie" {
            let expectation = "a cookie name like slipway-bucket"
            return string(kind, matching: NameRules.isHTTPToken, expectation: expectation).map(StickinessSpec.cookie)
        }
        let expectation = "a header name like X-User-Id"
        return string(kind, matching: NameRules.isHTTPToken, expectation: expectation).map(StickinessSpec.header)
    }

    func isHeaderValue(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
    }

    private func isRegularExpression(_ text: String) -> Bool {
        (try? NSRegularExpression(pattern: text)) != nil
    }
}
