import SlipwayCore

/// `apps[n].proxy.outlierDetection` and `apps[n].proxy.retries`; defaults for whatever is absent or wrong.
extension ConfigDecoder {
    /// `outlierDetection`: `true` or `false`, or a mapping (which turns it on).
    func outlierDetection(_ entry: Entry) -> OutlierDetectionSpec? {
        if entry.value.scalarText != nil, !entry.value.isNull {
            return boolean(entry) == false ? nil : OutlierDetectionSpec()
        }
        var spec = OutlierDetectionSpec()
        guard let fields = optionalFields(entry, schema: .outlierDetection) else { return spec }
        var reader = SectionReader(fields: fields)
        if let value = reader.read("consecutiveFailures", { integer($0, in: 0...1000) }) {
            spec.consecutiveFailures = value
        }
        if let value = reader.read("interval", { duration($0, within: .milliseconds(100)...(.seconds(60))) }) {
            spec.interval = value
        }
        if let value = reader.read("baseEjectionTime", { duration($0, within: .milliseconds(100)...(.seconds(3600))) })
        {
            spec.baseEjectionTime = value
        }
        if let value = reader.read("maxEjectionTime", { duration($0, within: .milliseconds(100)...(.seconds(3600))) }) {
            spec.maxEjectionTime = value
        }
        if let value = reader.read("maxEjectedPercent", { wholePercent($0, in: 1...100) }) {
            spec.maxEjectedPercent = value
        }
        if let entry = fields["successRate"] {
            successRate(entry, into: &spec)
        }
        if let probe = optionalFields(fields["probe"], schema: .outlierProbe) {
            if let entry = probe["path"],
                let path = string(entry, matching: isHTTPPath, expectation: "a path starting with / without spaces")
            {
                spec.probePath = path
            }
            if let value = probe["timeout"].flatMap({ duration($0, within: .milliseconds(10)...(.seconds(60))) }) {
                spec.probeTimeout = value
            }
        }
        if spec.maxEjectionTime < spec.baseEjectionTime,
            reader.accepted("maxEjectionTime", "baseEjectionTime"),
            let offending = fields["maxEjectionTime"] ?? fields["baseEjectionTime"]
        {
            let message =
                "maxEjectionTime \(DurationText.format(spec.maxEjectionTime)) must not be shorter than "
                + "baseEjectionTime \(DurationText.format(spec.baseEjectionTime))"
            report(offending.value.location, offending.path, message)
        }
        return spec
    }

    /// `successRate`: `false`, or a mapping of `minimumRequests` and `drop`.
    private func successRate(_ entry: Entry, into spec: inout OutlierDetectionSpec) {
        if entry.value.scalarText != nil, !entry.value.isNull {
            if boolean(entry) == false { spec.successRateMinimumRequests = nil }
            return
        }
        guard let fields = optionalFields(entry, schema: .successRate) else { return }
        if let value = fields["minimumRequests"].flatMap({ integer($0, in: 1...1_000_000) }) {
            spec.successRateMinimumRequests = value
        }
        if let value = fields["drop"].flatMap({ wholePercent($0, in: 1...100) }) {
            spec.successRateDropPercent = value
        }
    }

    /// `retries`: a mapping.
    func retries(_ entry: Entry) -> RetrySpec {
        var spec = RetrySpec()
        guard let fields = optionalFields(entry, schema: .retries) else { return spec }
        if let value = fields["attempts"].flatMap({ integer($0, in: 0...5) }) {
            spec.attempts = value
        }
        if let entry = fields["on"], let conditions = retryConditions(entry) {
            spec.on = conditions
        }
        if let value = fields["budget"].flatMap({ wholePercent($0, in: 0...100) }) {
            spec.budgetPercent = value
        }
        if let value = fields["minimumPerSecond"].flatMap({ integer($0, in: 0...10_000) }) {
            spec.minimumPerSecond = value
        }
        if let value = fields["perTryTimeout"].flatMap({ duration($0, within: .milliseconds(1)...(.seconds(3600))) }) {
            spec.perTryTimeout = value
        }
        return spec
    }

    /// `waitingRoom`: a mapping with `maxInFlight` or `maxInFlightPerInstance`.
    func waitingRoom(_ entry: Entry) -> WaitingRoomSpec? {
        guard let fields = optionalFields(entry, schema: .waitingRoom) else { return nil }
        let total = fields["maxInFlight"].flatMap { integer($0, in: 1...1_000_000) }
        let perInstance = fields["maxInFlightPerInstance"].flatMap { integer($0, in: 1...1_000_000) }
        var spec = WaitingRoomSpec(limit: .total(1))
        if let value = fields["queue"].flatMap({ integer($0, in: 0...1_000_000) }) {
            spec.queue = value
        }
        if let value = fields["queueTimeout"].flatMap({ duration($0, within: .milliseconds(1)...(.seconds(3600))) }) {
            spec.queueTimeout = value
        }
        if let value = fields["waitingPage"].flatMap({ boolean($0) }) {
            spec.waitingPage = value
        }
        if let value = fields["pageRefresh"].flatMap({ duration($0, within: .seconds(1)...(.seconds(60))) }) {
            spec.pageRefresh = value
        }
        switch (fields["maxInFlight"], fields["maxInFlightPerInstance"]) {
        case (nil, nil):
            report(fields.location, fields.path, "missing required key `maxInFlight` or `maxInFlightPerInstance`")
            return nil
        case (.some, .some(let second)):
            report(second.value.location, second.path, "give maxInFlight or maxInFlightPerInstance, not both")
            return nil
        default:
            if let total {
                spec.limit = .total(total)
            } else if let perInstance {
                spec.limit = .perInstance(perInstance)
            } else {
                // The one given was refused, and said so.
                return nil
            }
            return spec
        }
    }

    /// `retries.on`: a list of condition names, each known and named once.
    private func retryConditions(_ entry: Entry) -> [String]? {
        let expectation = "a list of " + RetrySpec.conditions.joined(separator: ", ")
        guard let elements = list(entry, expectation: expectation) else { return nil }
        var conditions: [String] = []
        var valid = true
        for (index, node) in elements.enumerated() {
            let element = Entry.element(node, at: KeyPath.element(entry.path, index))
            guard let text = element.value.scalarText, RetrySpec.conditions.contains(text) else {
                reportExpected("one of " + RetrySpec.conditions.joined(separator: ", "), element)
                valid = false
                continue
            }
            guard !conditions.contains(text) else {
                report(element.value.location, element.path, "`\(text)` is listed twice")
                valid = false
                continue
            }
            conditions.append(text)
        }
        return valid ? conditions : nil
    }

    /// A whole percentage like `20%` within `range`.
    private func wholePercent(_ entry: Entry, in range: ClosedRange<Int>) -> Int? {
        let expectation = "a whole percentage from \(range.lowerBound)% to \(range.upperBound)%, like 20%"
        guard let text = entry.value.scalarText, text.hasSuffix("%"), let value = Int(text.dropLast()),
            range.contains(value)
        else {
            reportExpected(expectation, entry)
            return nil
        }
        return value
    }

    /// A duration within `range`.
    private func duration(_ entry: Entry, within range: ClosedRange<Duration>) -> Duration? {
        guard let value = duration(entry, positive: range.lowerBound > .zero) else { return nil }
        guard range.contains(value) else {
            let bounds = "\(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))"
            reportExpected("a duration from \(bounds)", entry)
            return nil
        }
        return value
    }
}
