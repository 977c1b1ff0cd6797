/// A rule that sends matching requests to a named version regardless of weights, for internal users and beta testers.
public struct MatchRule: Sendable, Equatable {
    /// What a request must carry to match.
    public enum Condition: Sendable, Equatable {
        /// A header field with this name (compared case-insensitively) has exactly this value.
        case headerEquals(name: String, value: String)
        /// A header field with this name (compared case-insensitively) has a value that the regular expression
        /// matches as a whole.
        case headerMatches(name: String, pattern: String)
        /// The first cookie with this name in the `Cookie` header fields has exactly this value.
        case cookieEquals(name: String, value: String)
    }

    /// What a request must carry to match.
    public var condition: Condition
    /// The version that matching requests go to.
    public var version: String

    /// Creates a rule sending requests that satisfy `condition` to `version`.
    public init(condition: Condition, version: String) {
        self.condition = condition
        self.version = version
    }
}
