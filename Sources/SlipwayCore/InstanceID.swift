/// The identity of one running copy of a release, unique within an app across controller restarts.
///
/// Formed as `<app>-<number>`, where the number only grows for the life of the state directory.
public struct InstanceID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The textual form, e.g. `shop-7`.
    public var rawValue: String

    /// Wraps an existing identifier.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// The identifier of the `number`th instance of `app`.
    public init(app: String, number: Int) {
        self.rawValue = "\(app)-\(number)"
    }

    /// The app it belongs to: the identifier without its trailing `-<number>`.
    public var app: String {
        guard let dash = rawValue.lastIndex(of: "-") else { return rawValue }
        return String(rawValue[..<dash])
    }

    /// The sequence number after the last `-`, if there is one.
    public var number: Int? {
        guard let dash = rawValue.lastIndex(of: "-") else { return nil }
        return Int(rawValue[rawValue.index(after: dash)...])
    }

    public static func < (lhs: InstanceID, rhs: InstanceID) -> Bool {
        switch (lhs.number, rhs.number) {
        case let (l?, r?) where l != r: return l < r
        default: return lhs.rawValue < rhs.rawValue
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
