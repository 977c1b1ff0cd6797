/// Why a route table could not be built.
public enum RouteTableError: Error, Equatable, CustomStringConvertible {
    /// A version's weight is outside 0...10000 basis points.
    case weightOutOfRange(version: String, weight: Int)
    /// The weights do not add up to 10000 basis points.
    case weightsDoNotSum(total: Int)
    /// Two versions have the same name.
    case duplicateVersion(String)
    /// A rule sends requests to a version the table does not have.
    case unknownRuleVersion(ruleIndex: Int, version: String)
    /// A rule's regular expression does not compile.
    case invalidPattern(ruleIndex: Int, pattern: String, reason: String)
    /// The stickiness cookie's name cannot be written in a `Set-Cookie` header.
    case invalidCookieName(String)
    /// The mirror copies requests to a version the table does not have.
    case unknownMirrorVersion(String)
    /// The mirror's share is outside 1...10000 basis points, or its body bound is negative.
    case invalidMirror(String)

    /// A sentence naming the offending value.
    public var description: String {
        switch self {
        case .weightOutOfRange(let version, let weight):
            "version '\(version)' has weight \(weight); weights are basis points in 0...10000"
        case .weightsDoNotSum(let total):
            "version weights add up to \(total) basis points; they must add up to 10000 (100%)"
        case .duplicateVersion(let version):
            "version '\(version)' appears more than once"
        case .unknownRuleVersion(let ruleIndex, let version):
            "rule \(ruleIndex + 1) sends requests to version '\(version)', which is not in the table"
        case .invalidPattern(let ruleIndex, let pattern, let reason):
            "rule \(ruleIndex + 1) has an invalid regular expression '\(pattern)': \(reason)"
        case .invalidCookieName(let name):
            "stickiness cookie name '\(name)' is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"
        case .unknownMirrorVersion(let version):
            "the mirror copies requests to version '\(version)', which is not in the table"
        case .invalidMirror(let reason):
            "the mirror is invalid: \(reason)"
        }
    }
}
