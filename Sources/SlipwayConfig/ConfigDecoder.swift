import Yams

/// A key of a mapping with its value and full key path.
struct Entry {
    /// The key's name.
    let name: String
    /// The key node, for positions of key problems.
    let key: Node
    /// The value node.
    let value: Node
    /// The full key path of the value, like `apps[0].health.interval`.
    let path: String

    /// An element of a list, so that it can be read like the value of a key.
    static func element(_ node: Node, at path: String) -> Entry {
        Entry(name: "", key: node, value: node, path: path)
    }
}

/// The recognised keys of one mapping.
struct Fields {
    /// The key path of the mapping.
    let path: String
    /// The position of the mapping, where missing keys are reported.
    let location: SourceLocation
    /// The entries by key name.
    var entries: [String: Entry]

    subscript(name: String) -> Entry? {
        entries[name]
    }
}

/// Turns a composed YAML tree into specs, collecting every problem it finds rather than stopping at the first.
final class ConfigDecoder {
    let file: String
    let baseDirectory: String
    let document: ComposedDocument
    private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Where `{query: …}` checks were written, to check that a Prometheus is configured once the controller is read.
    var queryChecks: [(location: SourceLocation, path: String)] = []
    /// The apps chaos steps apply their faults to (`chaos.app`), checked once every app is read.
    var chaosTargets: [(name: String, location: SourceLocation, path: String)] = []
    /// The hosts apps run on (`apps[n].hosts`), checked against the top-level `hosts` once the file is read.
    var hostTargets: [(name: String, location: SourceLocation, path: String)] = []
    /// Whether `controller.prometheus` was written (a wrong one is reported where it is, not at every query check).
    var prometheusWritten = false

    init(file: String, baseDirectory: String, document: ComposedDocument) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.document = document
    }

    /// Records a problem. A problem already reported at the same place is not repeated: an app's setting is read
    /// once for each environment it runs in.
    func report(_ location: SourceLocation, _ keyPath: String, _ message: String) {
        if location != .unknown,
            diagnostics.contains(where: {
                $0.line == location.line && $0.column == location.column && $0.message == message
            })
        {
            return
        }
        diagnostics.append(ConfigDiagnostic(file: file, location: location, keyPath: keyPath, message: message))
    }

    /// Gives the problems reported since the `start`th one the key path of where their value is written: a problem
    /// at one of `positions` (which are in `apps[n]`) has its key path's `prefix` replaced by `replacement`.
    func relocate(since start: Int, at positions: Set<SourceLocation>, prefix: String, to replacement: String) {
        for index in diagnostics.indices.dropFirst(start) {
            let diagnostic = diagnostics[index]
            let location = SourceLocation(line: diagnostic.line, column: diagnostic.column)
            guard positions.contains(location), diagnostic.keyPath.hasPrefix(prefix) else { continue }
            diagnostics[index].keyPath = replacement + diagnostic.keyPath.dropFirst(prefix.count)
        }
    }

    /// Records that `entry` holds a value of the wrong kind: "expected …, got …".
    func reportExpected(_ expectation: String, _ entry: Entry, hint: String? = nil) {
        var message = "expected \(expectation), got \(entry.value.foundDescription)"
        if let hint {
            message += "; \(hint)"
        }
        report(entry.value.location, entry.path, message)
    }

    /// The keys of a mapping in file order, reporting keys that are not names and keys set twice.
    /// Nil, with a problem reported, when `node` is not a mapping.
    func entries(of node: Node, at path: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            report(node.location, path, "expected a mapping, got \(node.foundDescription)")
            return nil
        }
        var result: [Entry] = []
        var firstLines: [String: Int] = [:]
        for (key, value) in mapping {
            guard let name = document.keyName(key) else {
                report(key.location, path, "expected a key name, got \(key.foundDescription)")
                continue
            }
            let keyPath = KeyPath.join(path, name)
            if let firstLine = firstLines[name] {
                report(key.location, keyPath, "duplicate key `\(name)`; it is already set on line \(firstLine)")
                continue
            }
            firstLines[name] = key.location.line
            result.append(Entry(name: name, key: key, value: value, path: keyPath))
        }
        return result
    }

    /// The keys of a mapping checked against `schema`: unknown keys are reported and left out.
    /// Nil, with a problem reported, when `node` is not a mapping.
    func fields(of node: Node, at path: String, schema: KeySchema) -> Fields? {
        guard let entries = entries(of: node, at: path) else { return nil }
        var fields = Fields(path: path, location: node.location, entries: [:])
        for entry in entries {
            if schema.known.contains(entry.name) {
                fields.entries[entry.name] = entry
            } else {
                report(entry.key.location, entry.path, unknownKeyMessage(entry.name, schema: schema))
            }
        }
        return fields
    }

    /// The fields of an optional section such as `health`: nil when the key is absent or its value is not a mapping,
    /// empty when the key has no value.
    func optionalFields(_ entry: Entry?, schema: KeySchema) -> Fields? {
        guard let entry else { return nil }
        if entry.value.isNull {
            return Fields(path: entry.path, location: entry.value.location, entries: [:])
        }
        return fields(of: entry.value, at: entry.path, schema: schema)
    }

    /// The entry for `name`, or nil with "missing required key" reported at the mapping.
    func require(_ name: String, in fields: Fields) -> Entry? {
        if let entry = fields[name] {
            return entry
        }
        report(fields.location, fields.path, "missing required key `\(name)`")
        return nil
    }

    /// The one key of `names` set in `fields`, which are alternatives. When several are set, each after the first
    /// is reported with `advice` on what to write instead, and the first is returned. When none is set, nil, and the
    /// mapping is reported unless `reportingNone` is false.
    func exactlyOne(
        of names: [String],
        in fields: Fields,
        advice: String = "choose one",
        reportingNone: Bool = true
    ) -> Entry? {
        let written = names.compactMap { fields[$0] }.sorted { $0.key.location < $1.key.location }
        guard let first = written.first else {
            if reportingNone {
                let listed = names.map { "`\($0)`" }
                let alternatives = listed.dropLast().joined(separator: ", ") + " or " + (listed.last ?? "")
                let none = names.count == 2 ? "neither" : "none"
                report(fields.location, fields.path, "expected exactly one of \(alternatives), got \(none)")
            }
            return nil
        }
        for extra in written.dropFirst() {
            report(extra.key.location, extra.path, "`\(first.name)` and `\(extra.name)` cannot both be set; \(advice)")
        }
        return first
    }

    private func unknownKeyMessage(_ name: String, schema: KeySchema) -> String {
        if name == "<<" {
            return "merge keys (`<<`) are not supported; write the keys out"
        }
        if let suggestion = KeySuggestion.closest(to: name, among: schema.known) {
            return "unknown key `\(name)`; did you mean `\(suggestion)`?"
        }
        let allowed = schema.known.map { "`\($0)`" }.joined(separator: ", ")
        return "unknown key `\(name)`; expected one of \(allowed)"
    }
}
