/// One problem found in a configuration file, with the position it was found at.
public struct ConfigDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the configuration file, as it was given.
    public var file: String
    /// The 1-based line of the problem, or 0 when it concerns the whole file.
    public var line: Int
    /// The 1-based column of the problem, or 0 when it concerns the whole file.
    public var column: Int
    /// The key path of the offending value, like `apps[0].health.interval`; empty for whole-document problems.
    public var keyPath: String
    /// What was found and what was expected.
    public var message: String

    /// Creates a diagnostic at `location`.
    public init(file: String, location: SourceLocation, keyPath: String, message: String) {
        self.file = file
        self.line = location.line
        self.column = location.column
        self.keyPath = keyPath
        self.message = message
    }

    /// The position of the problem.
    public var location: SourceLocation {
        SourceLocation(line: line, column: column)
    }

    /// `file:line:column: keyPath: message`; the position is left out when it is 0:0 and the key path when empty.
    public var description: String {
        var text = file
        if line > 0 {
            text += ":\(line):\(column)"
        }
        text += ": "
        if !keyPath.isEmpty {
            text += keyPath + ": "
        }
        return text + message
    }
}
