/// Where a secret value (a webhook URL) comes from. Its description never shows a literal value.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Written in the configuration file itself.
    case literal(SecretText)
    /// The value of this environment variable of the controller.
    case environment(String)
    /// The content of the file at this absolute path, surrounding whitespace removed.
    case file(String)

    public var description: String {
        switch self {
        case .literal: return "a value written in the configuration"
        case .environment(let name): return "the environment variable \(name)"
        case .file(let path): return "the file \(path)"
        }
    }

    public var debugDescription: String { description }
}

/// A secret string whose description, debug description and reflection never show it.
public struct SecretText: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret itself; only the code that uses it reads this.
    public let value: String

    /// Wraps a secret.
    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "(secret)" }
    public var debugDescription: String { "(secret)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
