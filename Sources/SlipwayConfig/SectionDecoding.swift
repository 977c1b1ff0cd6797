import SlipwayCore

/// The optional sections of an app: `health`, `restart` and `logs`; defaults for whatever is absent or wrong.
extension ConfigDecoder {
    /// `apps[n].health`.
    func health(_ entry: Entry?) -> HealthCheckSpec {
        var spec = HealthCheckSpec()
        guard let fields = optionalFields(entry, schema: .health) else { return spec }
        var reader = SectionReader(fields: fields)
        let pathExpectation = "a path starting with /"
        if let value = reader.read("path", { string($0, matching: isHTTPPath, expectation: pathExpectation) }) {
            spec.path = value
        }
        if let value = reader.read("interval", { duration($0, positive: true) }) {
            spec.interval = value
        }
        if let value = reader.read("timeout", { duration($0, positive: true) }) {
            spec.timeout = value
        }
        if let value = reader.read("healthyThreshold", { integer($0, in: 1...100) }) {
            spec.healthyThreshold = value
        }
        if let value = reader.read("unhealthyThreshold", { integer($0, in: 1...100) }) {
            spec.unhealthyThreshold = value
        }
        if let value = reader.read("startDeadline", { duration($0, positive: true) }) {
            spec.startDeadline = value
        }
        // A rejected value was replaced by its default, which must not be compared as if it had been written.
        if spec.timeout > spec.interval, reader.accepted("timeout", "interval"),
            let offending = fields["timeout"] ?? fields["interval"]
        {
            let message =
                "timeout \(DurationText.format(spec.timeout)) must not be longer than interval "
                + DurationText.format(spec.interval)
            report(offending.value.location, offending.path, message)
        }
        return spec
    }

    /// `apps[n].restart`.
    func restart(_ entry: Entry?) -> RestartSpec {
        var spec = RestartSpec()
        guard let fields = optionalFields(entry, schema: .restart) else { return spec }
        var reader = SectionReader(fields: fields)
        if let value = reader.read("initialBackoff", { duration($0, positive: true) }) {
            spec.initialBackoff = value
        }
        if let value = reader.read("maxBackoff", { duration($0, positive: true) }) {
            spec.maxBackoff = value
        }
        if let value = reader.read("resetAfter", { duration($0, positive: true) }) {
            spec.resetAfter = value
        }
        if let value = reader.read(
            "every",
            { entry -> Duration? in
                guard let every = self.duration(entry, positive: true) else { return nil }
                guard every >= .seconds(10) else {
                    self.reportExpected("a duration of at least 10s, like 24h", entry)
                    return nil
                }
                return every
            }
        ) {
            spec.every = value
        }
        if let value = reader.read("window", deployWindows) {
            spec.window = value.hasRules ? value : nil
        }
        if spec.maxBackoff < spec.initialBackoff, reader.accepted("initialBackoff", "maxBackoff"),
            let offending = fields["maxBackoff"] ?? fields["initialBackoff"]
        {
            let message =
                "maxBackoff \(DurationText.format(spec.maxBackoff)) must be at least initialBackoff "
                + DurationText.format(spec.initialBackoff)
            report(offending.value.location, offending.path, message)
        }
        return spec
    }

    /// `apps[n].logs`.
    func logs(_ entry: Entry?) -> LogSpec {
        var spec = LogSpec()
        guard let fields = optionalFields(entry, schema: .logs) else { return spec }
        let sizes = LogSpec.minimumMaxBytes...LogSpec.maximumMaxBytes
        if let maxBytes = fields["maxBytes"].flatMap({ byteSize($0, in: sizes) }) {
            spec.maxBytes = maxBytes
        }
        if let keep = fields["keep"].flatMap({ integer($0, in: 0...20) }) {
            spec.keep = keep
        }
        return spec
    }

    /// Whether `text` is a request path: starting with `/`, without spaces.
    func isHTTPPath(_ text: String) -> Bool {
        text.hasPrefix("/") && !text.contains(where: { $0.isWhitespace })
    }
}
