import Foundation
import SlipwayCore
import Yams

extension KeySchema {
    /// The top of an experiment file: Chaos Toolkit's keys, with `safeguard` added.
    static let experiment = KeySchema(
        known: [
            "title", "description", "version", "tags", "contributions", "extensions", "steady-state-hypothesis",
            "method", "rollbacks", "safeguard", "configuration", "secrets", "controls", "runtime",
        ]
    )
    static let hypothesis = KeySchema(known: ["title", "probes"])
    static let activity = KeySchema(
        known: ["type", "name", "provider", "tolerance", "pauses", "background", "ref", "controls"]
    )
    static let pauses = KeySchema(known: ["before", "after"])
    static let safeguard = KeySchema(known: ["app", "maxErrorRate", "window"])
    static let httpProvider = KeySchema(known: ["type", "url", "method", "headers", "arguments", "timeout"])
    static let processProvider = KeySchema(known: ["type", "path", "arguments", "timeout"])
    static let slipwayProvider = KeySchema(known: ["type", "func", "arguments"])
    static let toleranceMapping = KeySchema(known: ["type", "range", "pattern", "target"])
}

/// Reads chaos experiment files.
public enum ChaosExperimentLoader {
    /// Reads and checks the experiment in `file`; every problem is thrown with its line and key path.
    public static func load(file: String) throws(ConfigErrors) -> ChaosExperimentSpec {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigErrors([
                ConfigDiagnostic(file: file, location: .unknown, keyPath: "", message: "cannot read the file")
            ])
        }
        return try parse(text, file: file)
    }

    /// Reads and checks an experiment written in YAML or JSON.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> ChaosExperimentSpec {
        switch YAMLComposer.compose(text) {
        case .failure(let error):
            throw ConfigErrors([
                ConfigDiagnostic(file: file, location: error.location, keyPath: "", message: error.message)
            ])
        case .success(let document):
            let decoder = ConfigDecoder(file: file, baseDirectory: ".", document: document)
            guard let root = document.root, let spec = decoder.experiment(root), decoder.diagnostics.isEmpty else {
                if decoder.diagnostics.isEmpty {
                    throw ConfigErrors([
                        ConfigDiagnostic(file: file, location: .unknown, keyPath: "", message: "the file is empty")
                    ])
                }
                throw ConfigErrors(decoder.diagnostics)
            }
            return spec
        }
    }
}

extension ConfigDecoder {
    /// The whole experiment; nil when anything was reported.
    func experiment(_ root: Node) -> ChaosExperimentSpec? {
        guard let fields = fields(of: root, at: "", schema: .experiment) else { return nil }
        for unsupported in ["configuration", "secrets", "controls", "runtime"] {
            if let entry = fields[unsupported] {
                report(
                    entry.key.location,
                    entry.path,
                    "`\(unsupported)` is not supported: write values into the activities themselves"
                )
            }
        }
        let title = require("title", in: fields).flatMap(string)
        let description = fields["description"].flatMap(string)
        let hypothesis = fields["steady-state-hypothesis"].flatMap(hypothesis)
        let method = require("method", in: fields).flatMap { activities($0, allowingEmpty: false) }
        let rollbacks = fields["rollbacks"].flatMap { activities($0, allowingEmpty: true) } ?? []
        let safeguard = fields["safeguard"].flatMap(safeguard)
        guard let title, let method, diagnostics.isEmpty else { return nil }
        return ChaosExperimentSpec(
            title: title,
            description: description,
            hypothesis: hypothesis,
            method: method,
            rollbacks: rollbacks,
            safeguard: safeguard,
            document: json(root),
            file: file
        )
    }

    private func hypothesis(_ entry: Entry) -> ChaosExperimentSpec.Hypothesis? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .hypothesis) else { return nil }
        let title = require("title", in: fields).flatMap(string)
        let probes = require("probes", in: fields).flatMap { activities($0, allowingEmpty: false) }
        guard let title, let probes else { return nil }
        for (index, probe) in probes.enumerated() where probe.tolerance == nil {
            report(entry.value.location, "\(entry.path).probes[\(index)]", "a hypothesis probe needs a `tolerance`")
        }
        return ChaosExperimentSpec.Hypothesis(title: title, probes: probes)
    }

    private func safeguard(_ entry: Entry) -> ChaosExperimentSpec.Safeguard? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .safeguard) else { return nil }
        let app = require("app", in: fields).flatMap(string)
        let rate = require("maxErrorRate", in: fields).flatMap { entry -> Double? in
            guard let text = entry.value.scalarText, let value = Percentage.parse(text), value.basisPoints <= 10_000
            else {
                reportExpected("a percentage like 5%", entry)
                return nil
            }
            return Double(value.basisPoints) / 10_000
        }
        let window = fields["window"].flatMap { duration($0, positive: true) } ?? .seconds(10)
        guard let app, let rate else { return nil }
        return ChaosExperimentSpec.Safeguard(app: app, maxErrorRate: rate, window: window)
    }

    private func activities(_ entry: Entry, allowingEmpty: Bool) -> [ChaosExperimentSpec.Activity]? {
        guard let nodes = list(entry) else { return nil }
        if nodes.isEmpty, !allowingEmpty {
            reportExpected("a list of at least one activity", entry)
            return nil
        }
        var result: [ChaosExperimentSpec.Activity] = []
        for (index, node) in nodes.enumerated() {
            if let activity = activity(.element(node, at: "\(entry.path)[\(index)]")) { result.append(activity) }
        }
        return result.count == nodes.count ? result : nil
    }

    private func activity(_ entry: Entry) -> ChaosExperimentSpec.Activity? {
        guard let fields = fields(of: entry.value, at: entry.path, schema: .activity) else { return nil }
        for unsupported in ["ref", "background", "controls"] {
            if let found = fields[unsupported] {
                report(found.key.location, found.path, "`\(unsupported)` is not supported: write the activity out")
            }
        }
        let kind = require("type", in: fields).flatMap { entry in
            string(entry, matching: { ["action", "probe"].contains($0) }, expectation: "action or probe")
                .flatMap(ChaosExperimentSpec.Activity.Kind.init(rawValue:))
        }
        let name = require("name", in: fields).flatMap(string)
        let provider = require("provider", in: fields).flatMap(provider)
        let tolerance = fields["tolerance"].flatMap(tolerance)
        var before: Duration?
        var after: Duration?
        if let pauses = fields["pauses"], let values = self.fields(of: pauses.value, at: pauses.path, schema: .pauses) {
            before = values["before"].flatMap(seconds)
            after = values["after"].flatMap(seconds)
        }
        guard let kind, let name, let provider else { return nil }
        return ChaosExperimentSpec.Activity(
            kind: kind,
            name: name,
            provider: provider,
            tolerance: tolerance,
            pauseBefore: before,
            pauseAfter: after,
            document: json(entry.value)
        )
    }

    private func provider(_ entry: Entry) -> ChaosExperimentSpec.Provider? {
        guard case .mapping(let mapping) = entry.value else {
            reportExpected("a provider mapping with `type`", entry)
            return nil
        }
        let type = mapping.first { document.keyName($0.key) == "type" }?.value.scalarText
        switch type {
        case "http":
            guard let fields = fields(of: entry.value, at: entry.path, schema: .httpProvider) else { return nil }
            let url = require("url", in: fields).flatMap { entry in
                string(
                    entry,
                    matching: { URL(string: $0)?.scheme.map { ["http", "https"].contains($0) } ?? false },
                    expectation: "an http or https URL"
                )
            }
            let method = fields["method"].flatMap(string)?.uppercased() ?? "GET"
            let headers = fields["headers"].flatMap(stringMap) ?? [:]
            let body = fields["arguments"].map { entry -> String in
                if let text = entry.value.scalarText { return text }
                return json(entry.value).description
            }
            let timeout = fields["timeout"].flatMap(seconds) ?? .seconds(10)
            guard let url else { return nil }
            return .http(url: url, method: method, headers: headers, body: body, timeout: timeout)
        case "process":
            guard let fields = fields(of: entry.value, at: entry.path, schema: .processProvider) else { return nil }
            let path = require("path", in: fields).flatMap(string)
            var arguments: [String] = []
            if let entry = fields["arguments"] {
                if case .sequence = entry.value {
                    arguments = list(entry)?.compactMap(\.scalarText) ?? []
                } else if let text = entry.value.scalarText {
                    arguments = text.split(separator: " ").map(String.init)
                } else {
                    reportExpected("a list of arguments, or one string", entry)
                }
            }
            let timeout = fields["timeout"].flatMap(seconds) ?? .seconds(60)
            guard let path else { return nil }
            return .process(path: path, arguments: arguments, timeout: timeout)
        case "slipway":
            guard let fields = fields(of: entry.value, at: entry.path, schema: .slipwayProvider) else { return nil }
            guard let function = require("func", in: fields).flatMap(string) else { return nil }
            let arguments = fields["arguments"]
            return slipwayFunction(function, arguments: arguments, at: fields["func"]!, provider: entry)
        case "python":
            report(
                entry.value.location,
                "\(entry.path).type",
                "python providers are Chaos Toolkit's own; Slipway runs http, process and slipway providers"
            )
            return nil
        default:
            report(
                entry.value.location,
                "\(entry.path).type",
                "expected http, process or slipway, got \(type.map { "`\($0)`" } ?? "nothing")"
            )
            return nil
        }
    }

    private func slipwayFunction(
        _ name: String,
        arguments: Entry?,
        at function: Entry,
        provider: Entry
    ) -> ChaosExperimentSpec.Provider? {
        let known = [
            "kill-instance": ["app", "instance", "signal"], "hang-instance": ["app", "instance", "duration"],
            "cut-host": ["host", "duration"],
            "add-fault": ["app", "fault"], "remove-faults": ["app"], "restart-app": ["app"],
            "error-rate": ["app", "window"], "latency": ["app", "window"], "steady-state": ["app", "window"],
        ]
        guard let keys = known[name] else {
            reportExpected("one of " + known.keys.sorted().joined(separator: ", "), function)
            return nil
        }
        let path = KeyPath.join(provider.path, "arguments")
        var values = Fields(path: path, location: provider.value.location, entries: [:])
        if let arguments {
            guard let read = fields(of: arguments.value, at: arguments.path, schema: KeySchema(known: keys)) else {
                return nil
            }
            values = read
        }
        let app =
            name == "remove-faults" || name == "cut-host"
            ? values["app"].flatMap(string) : require("app", in: values).flatMap(string)
        let window = values["window"].flatMap { duration($0, positive: true) } ?? .seconds(10)
        let function: ChaosExperimentSpec.SlipwayFunction?
        switch name {
        case "kill-instance":
            function = app.map {
                .killInstance(
                    app: $0,
                    instance: values["instance"].flatMap(string),
                    signal: values["signal"].flatMap(string)
                )
            }
        case "hang-instance":
            let hang = require("duration", in: values).flatMap { duration($0, positive: true) }
            function = app.flatMap { app in
                hang.map { .hangInstance(app: app, instance: values["instance"].flatMap(string), duration: $0) }
            }
        case "cut-host":
            let host = require("host", in: values).flatMap(string)
            let length = require("duration", in: values).flatMap { duration($0, positive: true) }
            function = host.flatMap { host in length.map { .cutHost(host: host, duration: $0) } }
        case "add-fault":
            let fault = require("fault", in: values).flatMap { entry -> [String: JSONValue]? in
                guard case .object(let object) = json(entry.value), object["kind"] != nil else {
                    reportExpected("a fault like {kind: delay, delayMs: 200, percent: 10}", entry)
                    return nil
                }
                return object
            }
            function = app.flatMap { app in fault.map { .addFault(app: app, fault: $0) } }
        case "remove-faults":
            function = .removeFaults(app: app)
        case "restart-app":
            function = app.map { .restartApp(app: $0) }
        case "error-rate":
            function = app.map { .errorRate(app: $0, window: window) }
        case "steady-state":
            function = app.map { .steadyState(app: $0, window: window) }
        default:
            function = app.map { .latency(app: $0, window: window) }
        }
        return function.map(ChaosExperimentSpec.Provider.slipway)
    }

    private func tolerance(_ entry: Entry) -> ChaosExperimentSpec.Tolerance? {
        switch entry.value {
        case .scalar:
            return .equals(json(entry.value))
        case .sequence:
            return .oneOf(list(entry)?.map(json) ?? [])
        case .mapping:
            guard let fields = fields(of: entry.value, at: entry.path, schema: .toleranceMapping) else { return nil }
            switch require("type", in: fields).flatMap(string) {
            case "range":
                guard let range = require("range", in: fields), let bounds = list(range),
                    bounds.count == 2, let lower = bounds[0].scalarText.flatMap(Double.init),
                    let upper = bounds[1].scalarText.flatMap(Double.init), lower <= upper
                else {
                    if let range = fields["range"] { reportExpected("[lower, upper] numbers", range) }
                    return nil
                }
                return .range(lower: lower, upper: upper)
            case "regex":
                guard let pattern = require("pattern", in: fields).flatMap(string) else { return nil }
                guard (try? Regex(pattern)) != nil else {
                    reportExpected("a regular expression", fields["pattern"]!)
                    return nil
                }
                return .regex(pattern)
            case let other?:
                reportExpected("range or regex (not \(other))", fields["type"]!)
                return nil
            case nil:
                return nil
            }
        case .alias:
            reportExpected("a value, a list or a mapping", entry)
            return nil
        }
    }

    /// Seconds as Chaos Toolkit writes them (a number), or a duration like `5s`.
    private func seconds(_ entry: Entry) -> Duration? {
        if let text = entry.value.scalarText, let value = Double(text), value >= 0, value <= 86_400 {
            return .milliseconds(Int((value * 1000).rounded()))
        }
        return duration(entry, positive: false)
    }

    private func stringMap(_ entry: Entry) -> [String: String]? {
        guard let entries = entries(of: entry.value, at: entry.path) else { return nil }
        var result: [String: String] = [:]
        for item in entries {
            if let text = string(item) { result[item.name] = text }
        }
        return result
    }

    /// The node as JSON: scalars by their YAML type.
    func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar:
            guard let text = node.scalarText else { return .null }
            switch node.tagName {
            case Tag.Name.int.rawValue: return Int(text).map(JSONValue.int) ?? .string(text)
            case Tag.Name.float.rawValue: return Double(text).map(JSONValue.double) ?? .string(text)
            case Tag.Name.bool.rawValue: return .bool(text == "true")
            default: return .string(text)
            }
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[document.keyName(key) ?? key.scalarText ?? "?"] = json(value) }
            return .object(object)
        case .alias:
            return .null
        }
    }
}
