import Yams

/// The node tree of a YAML document, composed even when mappings repeat a key.
struct ComposedDocument {
    /// The root node, nil for an empty document.
    var root: Node?
    /// The names of keys that were renamed to compose the document, by position.
    ///
    /// Yams refuses mappings with repeated keys, but every repetition should be reported with its position and
    /// the rest of the file still checked. So the first of two equal keys is renamed, in place and with the same
    /// length so that no position moves, and its real name is kept here.
    var originalKeyNames: [SourceLocation: String]

    /// The name of a scalar key as written in the file.
    func keyName(_ key: Node) -> String? {
        if let original = originalKeyNames[key.location] {
            return original
        }
        guard case .scalar(let scalar) = key else { return nil }
        return scalar.string
    }
}

/// A YAML document that could not be composed: a syntax error, with its position.
struct YAMLSyntaxError: Error, Equatable {
    var location: SourceLocation
    var message: String
}

/// Composes YAML text into a node tree with Yams.
enum YAMLComposer {
    /// How many repeated keys are worked around before giving up.
    static let maximumRenamedKeys = 500

    /// Composes `yaml`, working around repeated keys (see `ComposedDocument.originalKeyNames`).
    static func compose(_ yaml: String) -> Result<ComposedDocument, YAMLSyntaxError> {
        var text = yaml
        var originalKeyNames: [SourceLocation: String] = [:]
        while true {
            do {
                let root = try Yams.compose(yaml: text, .default, .default, .utf8)
                return .success(ComposedDocument(root: root, originalKeyNames: originalKeyNames))
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                let location = SourceLocation(line: context.mark.line, column: context.mark.column)
                let name = duplicates.first ?? ""
                guard originalKeyNames.count < maximumRenamedKeys, originalKeyNames[location] == nil,
                    let renamed = renameKey(at: location, in: text, to: originalKeyNames.count)
                else {
                    // Yams names keys it cannot show as text "<uncovertable>".
                    let readable = !name.isEmpty && name != "<uncovertable>"
                    let message = readable ? "duplicate key `\(name)`" : "duplicate key in a mapping"
                    return .failure(YAMLSyntaxError(location: location, message: message))
                }
                originalKeyNames[location] = name
                text = renamed
            } catch let error as YamlError {
                return .failure(syntaxError(from: error, in: text))
            } catch {
                return .failure(YAMLSyntaxError(location: .documentStart, message: "invalid YAML: \(error)"))
            }
        }
    }

    /// `text` with one character of the key at `location` replaced by a private-use character unique to `serial`,
    /// or nil when the key is not a plain or quoted scalar that can be renamed that way.
    static func renameKey(at location: SourceLocation, in text: String, to serial: Int) -> String? {
        guard let replacement = Unicode.Scalar(0xE000 + serial) else { return nil }
        var scalars = Array(text.unicodeScalars)
        guard var index = scalarIndex(of: location, in: scalars) else { return nil }
        // A key's position is that of its anchor or tag when it has one: skip to the key itself.
        while index < scalars.count, scalars[index] == "&" || scalars[index] == "!" {
            while index < scalars.count, scalars[index] != " " && scalars[index] != "\t" && scalars[index] != "\n" {
                index += 1
            }
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" {
                index += 1
            }
        }
        guard index < scalars.count else { return nil }
        let first = scalars[index]
        if first == "\"" || first == "'" {
            // Rename inside the quotes; an empty quoted key, or one starting with an escape, is left alone.
            index += 1
            guard index < scalars.count, scalars[index] != first, scalars[index] != "\\" else { return nil }
        } else if "&!*?[]{}|>%@`#,".unicodeScalars.contains(first) || first == " " || first == "\n" {
            return nil
        }
        scalars[index] = replacement
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    /// The index of the scalar at a 1-based line and column, counting lines the way libyaml does for
    /// `\n`, `\r\n` and `\r`.
    static func scalarIndex(of location: SourceLocation, in scalars: [Unicode.Scalar]) -> Int? {
        var line = 1
        var index = 0
        while line < location.line {
            guard index < scalars.count else { return nil }
            if scalars[index] == "\r" {
                if index + 1 < scalars.count && scalars[index + 1] == "\n" {
                    index += 1
                }
                line += 1
            } else if scalars[index] == "\n" {
                line += 1
            }
            index += 1
        }
        let target = index + location.column - 1
        return target < scalars.count ? target : nil
    }

    /// The position and message of a Yams parsing error.
    static func syntaxError(from error: YamlError, in text: String) -> YAMLSyntaxError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return YAMLSyntaxError(location: location(of: mark), message: message(problem, context))
        case .composer(let context, let problem, let mark, _):
            if problem == "but found another document" {
                return YAMLSyntaxError(
                    location: location(of: mark),
                    message: "the file holds more than one YAML document; expected a single document"
                )
            }
            return YAMLSyntaxError(location: location(of: mark), message: message(problem, context))
        case .reader(let problem, let offset, _, _):
            return YAMLSyntaxError(
                location: offset.map { location(ofCharacterOffset: $0, in: text) } ?? .documentStart,
                message: "invalid YAML: \(problem)"
            )
        default:
            return YAMLSyntaxError(location: .documentStart, message: "invalid YAML: \(error)")
        }
    }

    private static func location(of mark: Mark) -> SourceLocation {
        SourceLocation(line: mark.line, column: mark.column)
    }

    /// `invalid YAML: problem (context at line L, column C)`.
    private static func message(_ problem: String, _ context: YamlError.Context?) -> String {
        var text = "invalid YAML: \(problem)"
        if let context {
            text += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        return text
    }

    /// The line and column of the character `offset` characters into `text`.
    private static func location(ofCharacterOffset offset: Int, in text: String) -> SourceLocation {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return SourceLocation(line: line, column: column)
    }
}
