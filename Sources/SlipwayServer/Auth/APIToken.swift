/// The controller's API token: what `Authorization: Bearer …` and the sign-in form must present.
///
/// The value can only be compared, never read back: its description, debug description, mirror and
/// encoding all say `redacted`, so a token that reaches a log line, an event or a JSON body by mistake
/// reveals nothing.
public struct APIToken: Sendable, Encodable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let bytes: [UInt8]

    /// A token with `value`; nil when `value` is empty, since an empty token would let anyone in.
    public init?(_ value: String) {
        guard !value.isEmpty else { return nil }
        self.bytes = Array(value.utf8)
    }

    /// Whether `candidate` is this token, compared in constant time.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        ConstantTime.equals(bytes, candidate.utf8)
    }

    public var description: String { "APIToken(redacted)" }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: [:], displayStyle: .struct) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("redacted")
    }
}
