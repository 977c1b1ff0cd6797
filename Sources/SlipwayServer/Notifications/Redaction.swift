import Foundation

/// Keeping secret URLs out of messages and logs.
///
/// A Slack incoming webhook URL is a credential: anyone who has it can post to the channel. Only its scheme and
/// host may be shown.
public enum Redaction {
    /// What stands for a URL that cannot be taken apart.
    public static let unparsableURL = "<redacted URL>"
    /// Path segments at least this long are taken for tokens and scrubbed on their own too.
    static let tokenSegmentLength = 16

    /// `url` with its scheme and host only: `https://hooks.slack.com/…`. User, password, port, path, query and
    /// fragment are dropped.
    public static func url(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            let host = components.host, !host.isEmpty
        else { return unparsableURL }
        return "\(scheme)://\(host)/…"
    }

    /// `text` with every occurrence of each of `secretURLs`, of its path (with and without its query), of its
    /// query, and of every long path segment, replaced by the URL's redacted form (see ``url(_:)``).
    ///
    /// Use it on any text that may quote a request, such as the description of an HTTP client's error.
    public static func scrub(_ text: String, secretURLs: [String]) -> String {
        var replacements: [(secret: String, redacted: String)] = []
        for secretURL in secretURLs where !secretURL.isEmpty {
            let redacted = url(secretURL)
            for part in secretParts(of: secretURL) {
                replacements.append((part, redacted))
            }
        }
        // Longer parts first, so that a URL is replaced whole rather than around its replaced path.
        replacements.sort { $0.secret.count > $1.secret.count }
        var scrubbed = text
        for (secret, redacted) in replacements {
            scrubbed = scrubbed.replacingOccurrences(of: secret, with: redacted)
        }
        return scrubbed
    }

    /// The texts of `secretURL` that must not be shown.
    static func secretParts(of secretURL: String) -> [String] {
        var parts = [secretURL]
        if secretURL.hasSuffix("/") {
            parts.append(String(secretURL.dropLast()))
        }
        guard let components = URLComponents(string: secretURL) else { return parts }
        let path = components.percentEncodedPath
        if path.count > 1 {
            parts.append(path)
            if let decoded = path.removingPercentEncoding, decoded != path {
                parts.append(decoded)
            }
        }
        if let query = components.percentEncodedQuery, !query.isEmpty {
            parts.append("?" + query)
            parts.append(path + "?" + query)
            parts.append(query)
        }
        if let user = components.percentEncodedUser, !user.isEmpty {
            parts.append(user)
        }
        if let password = components.percentEncodedPassword, !password.isEmpty {
            parts.append(password)
        }
        for segment in path.split(separator: "/") where segment.count >= tokenSegmentLength {
            parts.append(String(segment))
        }
        return parts
    }
}
