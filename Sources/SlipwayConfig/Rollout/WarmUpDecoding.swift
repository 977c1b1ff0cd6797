/// The optional `warmup` section of an app; defaults for whatever is absent or wrong.
extension ConfigDecoder {
    /// `apps[n].warmup`.
    func warmUp(_ entry: Entry?) -> WarmUpSpec {
        var spec = WarmUpSpec()
        guard let fields = optionalFields(entry, schema: .warmUp) else { return spec }
        if let requests = fields["requests"] {
            warmUpRequests(requests, into: &spec)
        }
        if let value = fields["concurrency"].flatMap({ integer($0, in: 1...256) }) {
            spec.concurrency = value
        }
        if let value = fields["replay"].flatMap({ integer($0, in: 0...10_000) }) {
            spec.replay = value
        }
        if let value = fields["slowStart"].flatMap({ duration($0, positive: false) }) {
            spec.slowStart = value
        }
        if let value = fields["timeout"].flatMap({ duration($0, positive: true) }) {
            spec.timeout = value
        }
        return spec
    }

    /// `apps[n].warmup.requests`: `paths` and exactly one of `count` or `duration`.
    private func warmUpRequests(_ entry: Entry, into spec: inout WarmUpSpec) {
        guard let fields = optionalFields(entry, schema: .warmUpRequests) else { return }
        if let paths = require("paths", in: fields).flatMap(requestPaths) {
            spec.paths = paths
        }
        guard let amount = exactlyOne(of: ["count", "duration"], in: fields) else { return }
        if amount.name == "count" {
            spec.count = integer(amount, in: 0...1_000_000) ?? spec.count
        } else {
            spec.duration = duration(amount, positive: true)
        }
    }

    /// `requests.paths`: a non-empty list of request paths.
    private func requestPaths(_ entry: Entry) -> [String]? {
        guard let elements = list(entry, expectation: "a list of paths like [/, /api/items]") else { return nil }
        guard !elements.isEmpty else {
            reportExpected("at least one path", entry)
            return nil
        }
        let paths = elements.enumerated().map { index, element in
            string(
                .element(element, at: KeyPath.element(entry.path, index)),
                matching: isHTTPPath,
                expectation: "a path starting with /"
            )
        }
        let accepted = paths.compactMap { $0 }
        return accepted.count == paths.count ? accepted : nil
    }
}
