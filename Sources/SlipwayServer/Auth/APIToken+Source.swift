import Foundation
import SlipwayConfig

/// Why the token that `controller.token` names could not be read. The message names the variable or the
/// file, never what they hold.
public struct TokenReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, like `the environment variable SLIPWAY_TOKEN is not set`.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "controller.token: \(message)" }
}

extension APIToken {
    /// Reads the token `source` names, once, at start: the value of an environment variable, or the content
    /// of a file with its surrounding whitespace (a trailing newline, say) removed, as the CLI reads it.
    /// An unset or empty variable, and a missing, unreadable or empty file, are errors: the controller does
    /// not start with a token nobody can present.
    public static func read(
        from source: TokenSource,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(TokenReadError) -> APIToken {
        switch source {
        case .generated:
            throw TokenReadError("a generated token is read from the state directory, not from here")
        case .environment(let name):
            guard let value = environment[name] else {
                throw TokenReadError("the environment variable \(name) is not set")
            }
            guard let token = APIToken(value) else {
                throw TokenReadError("the environment variable \(name) is empty")
            }
            return token
        case .file(let path):
            let text = try readFile(path)
            guard let token = APIToken(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw TokenReadError("the token file \(path) is empty")
            }
            return token
        }
    }

    private static func readFile(_ path: String) throws(TokenReadError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenReadError("the token file \(path) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw TokenReadError("the token file \(path) is a directory")
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path)
        else {
            throw TokenReadError("the token file \(path) cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenReadError("the token file \(path) is not UTF-8 text")
        }
        return text
    }
}

extension APIToken {
    /// The token `config` names in `controller.token`, read now; nil when it names none. A token that cannot
    /// be read is reported like any other config problem, at `controller.token`.
    public static func configured(
        in config: SlipwayConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigDiagnostic) -> APIToken? {
        guard let source = config.controller.token else { return nil }
        do {
            if source == .generated { return try GeneratedToken.load(stateDirectory: config.controller.stateDirectory) }
            return try read(from: source, environment: environment)
        } catch {
            throw ConfigDiagnostic(
                file: config.file,
                location: config.controller.location,
                keyPath: "controller.token",
                message: error.message
            )
        }
    }
}
