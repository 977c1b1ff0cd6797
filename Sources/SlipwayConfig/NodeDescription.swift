import Yams

extension Node {
    /// The node's position in the file, 0:0 if Yams did not record one.
    var location: SourceLocation {
        mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? .unknown
    }

    /// The resolved YAML tag of a scalar, such as `tag:yaml.org,2002:int`.
    var tagName: String {
        tag.rawValue
    }

    /// Whether the node is a null scalar: nothing, `~` or `null`.
    var isNull: Bool {
        if case .scalar = self {
            return tagName == Tag.Name.null.rawValue
        }
        return false
    }

    /// The text of a non-null scalar, whatever type YAML gives it: `1.10` stays `1.10`.
    var scalarText: String? {
        guard case .scalar(let scalar) = self, !isNull else { return nil }
        return scalar.string
    }

    /// What the node is, phrased to follow "got": `"fast"`, `3.5`, `a list`, `an empty list`, `a mapping`,
    /// `an empty value`.
    var foundDescription: String {
        switch self {
        case .scalar(let scalar):
            if isNull {
                return scalar.string.isEmpty ? "an empty value" : scalar.string
            }
            let tag = tagName
            let plainTypes = [Tag.Name.int, .float, .bool].map(\.rawValue)
            if case .plain = scalar.style, plainTypes.contains(tag) {
                return scalar.string
            }
            return Self.quote(scalar.string)
        case .mapping(let mapping):
            return mapping.isEmpty ? "an empty mapping" : "a mapping"
        case .sequence(let sequence):
            return sequence.isEmpty ? "an empty list" : "a list"
        case .alias:
            return "an alias"
        }
    }

    /// `text` in double quotes with quotes, backslashes and line breaks escaped, shortened when very long.
    static func quote(_ text: String) -> String {
        let limit = 60
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        var escaped = ""
        for character in shown {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"" + escaped + "\""
    }
}
