extension ConfigDecoder {
    /// The `controller` section; defaults for whatever is absent or wrong.
    func controller(_ entry: Entry?) -> ControllerSpec {
        // Secure by default: without `token`, the controller makes one of its own.
        var spec = ControllerSpec(
            stateDirectory: PathResolution.absolute(ControllerSpec.defaultStateDirectory, base: baseDirectory),
            token: .generated
        )
        guard let fields = optionalFields(entry, schema: .controller) else { return spec }
        spec.location = fields.location
        if let api = fields["api"].flatMap(hostPort) {
            spec.api = api
        }
        if let stateDirectory = fields["stateDir"].flatMap(path) {
            spec.stateDirectory = stateDirectory
        }
        if let token = fields["token"] {
            spec.token = tokenSource(token)
        }
        if let url = fields["dashboardURL"] {
            spec.dashboardURL = string(
                url,
                matching: SecretURLRules.isHTTPURL,
                expectation: "an http or https URL like https://slipway.example.com"
            )
        }
        if let entry = fields["prometheus"] {
            prometheusWritten = true
            spec.prometheus = prometheus(entry)
        }
        if let entry = fields["tracing"] {
            spec.tracing = tracing(entry)
        }
        if let threads = fields["proxyThreads"].flatMap({ integer($0, in: 1...ControllerSpec.maximumProxyThreads) }) {
            spec.proxyThreads = threads
        }
        return spec
    }

    /// `controller.prometheus`: a URL, or `{url: URL, timeout: 5s}`.
    private func prometheus(_ entry: Entry) -> PrometheusSpec? {
        let expectation = "an http or https URL like http://127.0.0.1:9090"
        guard case .mapping = entry.value else {
            return string(entry, matching: SecretURLRules.isHTTPURL, expectation: expectation)
                .map { PrometheusSpec(url: $0) }
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .prometheus) else { return nil }
        // Both are read before either is judged, so that both problems are reported.
        let url = require("url", in: fields)
            .flatMap { string($0, matching: SecretURLRules.isHTTPURL, expectation: expectation) }
        let timeout = fields["timeout"].map { duration($0, positive: true) }
        guard let url, timeout != .some(nil) else { return nil }
        var spec = PrometheusSpec(url: url)
        if let timeout = timeout ?? nil { spec.timeout = timeout }
        return spec
    }

    /// `controller.tracing`: `{endpoint: URL, sampleRatio: 10%, serviceName: NAME, protocol: protobuf|json}`.
    private func tracing(_ entry: Entry) -> TracingSpec? {
        guard let fields = optionalFields(entry, schema: .tracing) else { return nil }
        let endpoint = require("endpoint", in: fields).flatMap {
            string(
                $0,
                matching: SecretURLRules.isHTTPURL,
                expectation: "an http or https URL like http://127.0.0.1:4318"
            )
        }
        var spec = endpoint.map { TracingSpec(endpoint: $0.hasSuffix("/") ? String($0.dropLast()) : $0) }
        if let entry = fields["sampleRatio"] {
            if let text = entry.value.scalarText, let ratio = Percentage.parse(text) {
                spec?.sampleRatio = ratio
            } else {
                reportExpected("a percentage from 0% to 100% like 10%", entry)
            }
        }
        if let entry = fields["serviceName"] {
            let expectation = "a service name of letters, digits, `.`, `-` and `_`"
            let valid: (String) -> Bool = { name in
                !name.isEmpty && name.count <= 128
                    && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
            }
            if let name = string(entry, matching: valid, expectation: expectation) { spec?.serviceName = name }
        }
        if let entry = fields["protocol"] {
            if let text = entry.value.scalarText, let format = TracingSpec.WireFormat(rawValue: text) {
                spec?.wireFormat = format
            } else {
                reportExpected("protobuf or json", entry)
            }
        }
        return spec
    }

    /// `controller.token`: `{env: NAME}`, `{file: PATH}`, or `none` (no token: the API is open).
    private func tokenSource(_ entry: Entry) -> TokenSource? {
        guard case .mapping = entry.value else {
            if case .scalar(let scalar) = entry.value, scalar.string == "none" { return nil }
            reportExpected("a mapping like {env: NAME} or {file: PATH}, or `none` for an open API", entry)
            return .generated
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .token) else { return nil }
        switch (fields["env"], fields["file"]) {
        case (nil, nil):
            report(fields.location, fields.path, "expected exactly one of `env` or `file`, got neither")
            return nil
        case (let env?, let file?):
            let later = env.key.location < file.key.location ? file : env
            report(later.key.location, later.path, "`env` and `file` cannot both be set; choose one")
            return nil
        case (let env?, nil):
            let expectation = "an environment variable name like SLIPWAY_TOKEN"
            return string(env, matching: NameRules.isEnvironmentName, expectation: expectation)
                .map(TokenSource.environment)
        case (nil, let file?):
            return path(file).map(TokenSource.file)
        }
    }
}
