import Foundation
import SlipwayConfig

/// Why a secret could not be read. The description names the variable or the file, never the value.
public enum SecretProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable is not set.
    case variableNotSet(String)
    /// The environment variable is set but empty.
    case variableEmpty(String)
    /// The file cannot be read, and why.
    case fileUnreadable(String, String)
    /// The file is empty or holds only whitespace.
    case fileEmpty(String)
    /// The value read from this source is not an absolute http or https URL.
    case notAnHTTPURL(SecretSource)

    public var description: String {
        switch self {
        case .variableNotSet(let name): return "the environment variable \(name) is not set"
        case .variableEmpty(let name): return "the environment variable \(name) is empty"
        case .fileUnreadable(let path, let reason): return "the file \(path) cannot be read: \(reason)"
        case .fileEmpty(let path): return "the file \(path) is empty"
        case .notAnHTTPURL(.literal):
            return "the URL written in the configuration is not an http or https URL (the value is not shown)"
        case .notAnHTTPURL(let source):
            return "\(source) does not hold an http or https URL (the value is not shown)"
        }
    }
}

/// Reads the secrets the configuration points at (webhook URLs).
public enum SecretResolver {
    /// The value of `source`: the literal, the environment variable (from `environment`), or the file's content with
    /// surrounding whitespace removed. An unset or empty variable, and a missing, unreadable or empty file, are
    /// errors.
    public static func resolve(
        _ source: SecretSource,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretProblem) -> String {
        switch source {
        case .literal(let literal):
            return literal.value
        case .environment(let name):
            guard let value = environment[name] else { throw .variableNotSet(name) }
            let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw .variableEmpty(name) }
            return text
        case .file(let path):
            return try readFile(path)
        }
    }

    /// ``resolve(_:environment:)``, and the value must be an absolute http or https URL.
    public static func url(
        _ source: SecretSource,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretProblem) -> String {
        let text = try resolve(source, environment: environment)
        guard SecretURLRules.isHTTPURL(text) else { throw .notAnHTTPURL(source) }
        return text
    }

    private static func readFile(_ path: String) throws(SecretProblem) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileUnreadable(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw .fileUnreadable(path, "it is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .fileUnreadable(path, "permission denied or read error")
        }
        guard let content = String(data: data, encoding: .utf8) else {
            throw .fileUnreadable(path, "the file is not UTF-8 text")
        }
        let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .fileEmpty(path) }
        return text
    }
}
