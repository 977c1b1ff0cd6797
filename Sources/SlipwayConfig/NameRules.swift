/// The spelling rules of names and versions.
enum NameRules {
    /// `^[a-z][a-z0-9-]{0,62}$`: an app name.
    static func isAppName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.unicodeScalars.count <= 63
        else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`: a version.
    static func isVersion(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isAlphanumeric(first), text.unicodeScalars.count <= 128
        else { return false }
        return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || "._+-".unicodeScalars.contains($0) }
    }

    /// `^[A-Za-z_][A-Za-z0-9_]*$`: an environment variable name.
    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLetter(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "_" }
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`: a hook's name.
    static func isHookName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isAlphanumeric(first), text.unicodeScalars.count <= 63
        else { return false }
        return text.unicodeScalars.allSatisfy { isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }
    }

    /// An HTTP token (RFC 9110): a header name such as `X-User-Id`, or a cookie name such as `slipway-bucket`.
    static func isHTTPToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { isAlphanumeric($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0) }
    }

    /// A cookie value (RFC 6265): printable ASCII without spaces, `"`, `,`, `;` and `\`.
    static func isCookieValue(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            (0x21...0x7E).contains(scalar.value) && !"\",;\\".unicodeScalars.contains(scalar)
        }
    }

    private static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || ("0"..."9").contains(scalar)
    }
}
