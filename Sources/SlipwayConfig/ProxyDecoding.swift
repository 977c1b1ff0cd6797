/// The optional `proxy` section of an app; defaults for whatever is absent or wrong.
extension ConfigDecoder {
    /// The accepted sizes of `maxHeaderBytes`: 1 KiB to 64 KiB.
    private static let headerSizes = (1 << 10)...(64 << 10)
    /// The accepted sizes of `maxRequestLineBytes`: 256 bytes to 64 KiB.
    private static let requestLineSizes = 256...(64 << 10)

    /// `apps[n].proxy`.
    func proxy(_ entry: Entry?) -> ProxySpec {
        var spec = ProxySpec()
        guard let fields = optionalFields(entry, schema: .proxy) else { return spec }
        var reader = SectionReader(fields: fields)
        if let value = reader.read("maxConnections", { integer($0, in: 1...1_000_000) }) {
            spec.maxConnections = value
        }
        if let value = reader.read("maxHeaderBytes", { byteSize($0, in: Self.headerSizes) }) {
            spec.maxHeaderBytes = value
        }
        if let value = reader.read("maxRequestLineBytes", { byteSize($0, in: Self.requestLineSizes) }) {
            spec.maxRequestLineBytes = value
        }
        if let value = reader.read("idleTimeout", { duration($0, positive: true) }) {
            spec.idleTimeout = value
        }
        if let value = reader.read("headerTimeout", { duration($0, positive: true) }) {
            spec.headerTimeout = value
        }
        if let value = reader.read("connectTimeout", { duration($0, positive: true) }) {
            spec.connectTimeout = value
        }
        if let value = reader.read("responseTimeout", { duration($0, positive: true) }) {
            spec.responseTimeout = value
        }
        if let value = reader.read("drainTimeout", { duration($0, positive: false) }) {
            spec.drainTimeout = value
        }
        if let value = reader.read("upstreamConnections", { integer($0, in: 1...100_000) }) {
            spec.upstreamConnections = value
            // The idle count defaults to the connection count.
            spec.idleUpstreamConnections = value
        }
        if let value = reader.read("idleUpstreamConnections", { integer($0, in: 0...100_000) }) {
            spec.idleUpstreamConnections = value
        }
        if let entry = fields["accessLog"] {
            spec.accessLog = accessLog(entry)
        }
        if let entry = fields["outlierDetection"] {
            spec.outlierDetection = outlierDetection(entry)
        }
        if let entry = fields["retries"] {
            spec.retries = retries(entry)
        }
        if let entry = fields["waitingRoom"] {
            spec.waitingRoom = waitingRoom(entry)
        }
        // A rejected value was replaced by its default, which must not be compared as if it had been written.
        if spec.maxRequestLineBytes > spec.maxHeaderBytes, reader.accepted("maxRequestLineBytes", "maxHeaderBytes"),
            let offending = fields["maxRequestLineBytes"] ?? fields["maxHeaderBytes"]
        {
            let message =
                "maxRequestLineBytes \(ByteSize.format(spec.maxRequestLineBytes)) must not be larger than "
                + "maxHeaderBytes \(ByteSize.format(spec.maxHeaderBytes))"
            report(offending.value.location, offending.path, message)
        }
        if spec.idleUpstreamConnections > spec.upstreamConnections,
            reader.accepted("idleUpstreamConnections", "upstreamConnections"),
            let offending = fields["idleUpstreamConnections"] ?? fields["upstreamConnections"]
        {
            let message =
                "idleUpstreamConnections \(spec.idleUpstreamConnections) must not be more than "
                + "upstreamConnections \(spec.upstreamConnections)"
            report(offending.value.location, offending.path, message)
        }
        return spec
    }

    /// `apps[n].proxy.accessLog`: `true`, `false`, or a mapping of `maxBytes` and `keep` (which turns it on).
    private func accessLog(_ entry: Entry) -> AccessLogSpec? {
        if entry.value.scalarText != nil, !entry.value.isNull {
            return boolean(entry) == true ? AccessLogSpec() : nil
        }
        guard let fields = optionalFields(entry, schema: .accessLog) else { return nil }
        var spec = AccessLogSpec()
        let sizes = LogSpec.minimumMaxBytes...LogSpec.maximumMaxBytes
        if let maxBytes = fields["maxBytes"].flatMap({ byteSize($0, in: sizes) }) {
            spec.maxBytes = maxBytes
        }
        if let keep = fields["keep"].flatMap({ integer($0, in: 0...20) }) {
            spec.keep = keep
        }
        return spec
    }
}
