import SlipwayCore
import Yams

/// `chaos:` in `strategy.canary.steps`: the fault both versions take, where, for how long, and the tolerance.
extension ConfigDecoder {
    /// The longest fixed delay or jitter a chaos step's fault may hold a request.
    static let longestChaosDelay = Duration.seconds(60)

    /// A chaos step; a `app` reference is checked against the file's apps once every app is read.
    func chaosStep(_ entry: Entry) -> ChaosStepSpec? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {fault: {kind: delay, delay: 300ms, share: 50%}, duration: 2m}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .chaosStep) else { return nil }
        var valid = true
        let fault = require("fault", in: fields).flatMap(chaosFault)
        var spec = ChaosStepSpec(fault: fault ?? ChaosStepSpec.Fault(kind: .reset))
        if let target = fields["app"] {
            if let name = string(target, matching: NameRules.isAppName, expectation: "the name of an app in this file")
            {
                spec.target = name
                chaosTargets.append((name, target.value.location, target.path))
            } else {
                valid = false
            }
        }
        if let before = fields["before"] {
            if let value = duration(before, positive: true) { spec.before = value } else { valid = false }
        }
        if let length = fields["duration"] {
            if let value = duration(length, positive: true) { spec.duration = value } else { valid = false }
        }
        if let tolerance = fields["tolerance"] {
            if let value = chaosTolerance(tolerance) { spec.tolerance = value } else { valid = false }
        }
        guard valid, fault != nil else { return nil }
        return spec
    }

    /// `fault: {kind: abort, status: 503, share: 10%, path: /api, method: GET, header: {name: X, value: y}}`.
    private func chaosFault(_ entry: Entry) -> ChaosStepSpec.Fault? {
        guard case .mapping = entry.value else {
            reportExpected("a fault like {kind: delay, delay: 300ms, share: 50%}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .chaosFault) else { return nil }
        let kinds = ChaosStepSpec.FaultKind.allCases.map(\.rawValue)
        let kindExpectation = "one of " + kinds.joined(separator: ", ")
        guard let kindEntry = require("kind", in: fields) else { return nil }
        guard let kindText = kindEntry.value.scalarText, let kind = ChaosStepSpec.FaultKind(rawValue: kindText) else {
            reportExpected(kindExpectation, kindEntry)
            return nil
        }
        var valid = true
        var fault = ChaosStepSpec.Fault(kind: kind)
        // Each kind's own keys; another kind's key is a mistake worth naming.
        let owners: [String: ChaosStepSpec.FaultKind] = [
            "status": .abort, "delay": .delay, "jitter": .delay, "bytesPerSecond": .bandwidth,
        ]
        for (key, owner) in owners.sorted(by: { $0.key < $1.key }) where owner != kind {
            if let misplaced = fields[key] {
                report(
                    misplaced.key.location,
                    misplaced.path,
                    "`\(key)` applies to a fault of kind \(owner.rawValue), not \(kind.rawValue)"
                )
                valid = false
            }
        }
        switch kind {
        case .abort:
            if let status = fields["status"] {
                if let value = integer(status, in: 400...599) { fault.status = value } else { valid = false }
            } else {
                fault.status = 503
            }
        case .delay:
            let bounds = Duration.milliseconds(1)...Self.longestChaosDelay
            if let delay = require("delay", in: fields) {
                if let value = chaosDelay(delay, within: bounds) { fault.delay = value } else { valid = false }
            } else {
                valid = false
            }
            if let jitter = fields["jitter"] {
                if let value = chaosDelay(jitter, within: .zero...Self.longestChaosDelay) {
                    fault.jitter = value
                } else {
                    valid = false
                }
            }
        case .bandwidth:
            if let rate = require("bytesPerSecond", in: fields) {
                if let value = integer(rate, in: 1...Int(Int32.max)) {
                    fault.bytesPerSecond = value
                } else {
                    valid = false
                }
            } else {
                valid = false
            }
        case .reset:
            break
        }
        if let share = fields["share"] {
            if let value = weight(share), value.basisPoints > 0 {
                fault.share = value
            } else {
                if weight(share) != nil { reportExpected("a share greater than 0, like 10%, 50% or 100%", share) }
                valid = false
            }
        }
        if let path = fields["path"] {
            let expectation = "a path prefix starting with '/', like /api/"
            if let value = string(path, matching: { $0.hasPrefix("/") && !$0.contains(" ") }, expectation: expectation)
            {
                fault.pathPrefix = value
            } else {
                valid = false
            }
        }
        if let method = fields["method"] {
            let isMethod: (String) -> Bool = {
                !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isUppercase || $0 == "-") }
            }
            if let value = string(method, matching: isMethod, expectation: "an upper-case method like GET") {
                fault.method = value
            } else {
                valid = false
            }
        }
        if let header = fields["header"] {
            if let value = chaosHeader(header) { fault.header = value } else { valid = false }
        }
        return valid ? fault : nil
    }

    private func chaosDelay(_ entry: Entry, within bounds: ClosedRange<Duration>) -> Duration? {
        guard let value = duration(entry, positive: false) else { return nil }
        guard bounds.contains(value) else {
            let range = "\(DurationText.format(bounds.lowerBound)) to \(DurationText.format(bounds.upperBound))"
            reportExpected("a duration from \(range)", entry)
            return nil
        }
        guard value.components.attoseconds % 1_000_000_000_000_000 == 0 else {
            reportExpected("whole milliseconds", entry)
            return nil
        }
        return value
    }

    /// `header: {name: X-Test, value: "1"}`.
    private func chaosHeader(_ entry: Entry) -> ChaosStepSpec.Header? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {name: X-Test, value: \"1\"}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .chaosHeader) else { return nil }
        let name = require("name", in: fields).flatMap {
            string($0, matching: NameRules.isHTTPToken, expectation: "a header name like X-Test")
        }
        let value = require("value", in: fields).flatMap {
            string(
                $0,
                matching: isHeaderValue,
                expectation: "a header value without line breaks or control characters"
            )
        }
        guard let name, let value else { return nil }
        return ChaosStepSpec.Header(name: name, value: value)
    }

    /// `tolerance: {errors: 1%, latency: 25ms}`.
    private func chaosTolerance(_ entry: Entry) -> ChaosStepSpec.Tolerance? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {errors: 1%, latency: 25ms}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .chaosTolerance) else { return nil }
        var tolerance = ChaosStepSpec.Tolerance()
        var valid = true
        if let errors = fields["errors"] {
            if let value = weight(errors) { tolerance.errors = value } else { valid = false }
        }
        if let latency = fields["latency"] {
            if let value = duration(latency, positive: false) { tolerance.latency = value } else { valid = false }
        }
        return valid ? tolerance : nil
    }
}
