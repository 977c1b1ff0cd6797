/// The text form of the records a supervisor leaves for the platform: one `key=value` per line, in order, a key
/// possibly repeated.
///
/// Keys are lowercase words with dashes. In values, a backslash, a line feed and a carriage return are written
/// `\\`, `\n` and `\r`, so a value is always one line. Readers skip lines without `=` and keys they do not know.
public struct RecordText: Sendable, Equatable {
    /// One line.
    public struct Field: Sendable, Equatable {
        /// The part before the first `=`.
        public var key: String
        /// The part after it, unescaped.
        public var value: String

        /// A field.
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// The lines, in order.
    public private(set) var fields: [Field] = []

    /// An empty record.
    public init() {}

    /// Reads the text form.
    public init(parsing text: String) {
        // Split on bytes: a value may begin with a combining mark that would fuse with `=` as a character.
        for line in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: line[..<equals], as: UTF8.self)
            let value = String(decoding: line[(equals + 1)...], as: UTF8.self)
            fields.append(Field(key, Self.unescape(value)))
        }
    }

    /// Adds a line.
    public mutating func append(_ key: String, _ value: String) {
        fields.append(Field(key, value))
    }

    /// The value of the first line with `key`.
    public func value(_ key: String) -> String? {
        fields.first { $0.key == key }?.value
    }

    /// The values of every line with `key`, in order.
    public func values(_ key: String) -> [String] {
        fields.filter { $0.key == key }.map(\.value)
    }

    /// The text form, each line ending with a line feed.
    public var text: String {
        var text = ""
        for field in fields { text += "\(field.key)=\(Self.escape(field.value))\n" }
        return text
    }

    private static func escape(_ value: String) -> String {
        var result = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    private static func unescape(_ value: String) -> String {
        var result = ""
        var escaping = false
        for character in value.unicodeScalars {
            if escaping {
                switch character {
                case "n": result += "\n"
                case "r": result += "\r"
                default: result.unicodeScalars.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.unicodeScalars.append(character)
            }
        }
        return result
    }
}
