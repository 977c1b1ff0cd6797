import Foundation
import Yams

extension KeySchema {
    /// A secret written as a mapping: `{env: NAME}` or `{file: PATH}`.
    static let secret = KeySchema(known: ["env", "file"])
}

/// Secrets in the configuration (webhook URLs): read without ever being quoted in a message.
extension ConfigDecoder {
    /// What messages say instead of quoting a value that may be a secret.
    static let undisclosedValue = "a value that is not shown, as it may be a secret"

    /// A secret URL (a channel's or a webhook gate's `url`): a literal `http`/`https` URL, `{env: NAME}` or
    /// `{file: PATH}`. The value is never quoted.
    func secretURL(_ entry: Entry) -> SecretSource? {
        let expectation = "an http or https URL, {env: NAME} or {file: PATH}"
        switch entry.value {
        case .mapping:
            break
        case .scalar where !entry.value.isNull:
            guard let text = entry.value.scalarText, SecretURLRules.isHTTPURL(text) else {
                let message = "expected \(expectation), got \(Self.undisclosedValue)"
                report(entry.value.location, entry.path, message)
                return nil
            }
            return .literal(SecretText(text))
        default:
            report(entry.value.location, entry.path, "expected \(expectation), got \(entry.value.foundDescription)")
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .secret) else { return nil }
        guard let source = exactlyOne(of: ["env", "file"], in: fields) else { return nil }
        if source.name == "file" {
            return path(source).map(SecretSource.file)
        }
        guard let name = source.value.scalarText, NameRules.isEnvironmentName(name) else {
            let message =
                "expected an environment variable name like SLACK_WEBHOOK_URL, got "
                + undisclosedDescription(source.value)
            report(source.value.location, source.path, message)
            return nil
        }
        return .environment(name)
    }

    /// What `node` is, without quoting a scalar: used wherever the value may be a secret.
    func undisclosedDescription(_ node: Node) -> String {
        if case .scalar = node, !node.isNull {
            return Self.undisclosedValue
        }
        return node.foundDescription
    }
}

/// What a URL written in the configuration must look like.
public enum SecretURLRules {
    /// Whether `text` is an absolute `http` or `https` URL with a host and without spaces or control characters.
    public static func isHTTPURL(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return false }
        return true
    }
}
