/// What a deploy ships, as the team's own tools know it: the commit, the build, where to read the source and the
/// changes, and who wrote them.
///
/// Every field is optional. A deploy carries them into the event log (`rolloutStarted`'s `release`), and from there to
/// `history`, the API, the dashboard and every notification about the rollout, so that whoever looks at a rollback
/// sees which code it was.
public struct ReleaseMetadata: Sendable, Equatable, Hashable, Codable {
    /// The commit id (`3f2c9e1…`).
    public var commit: String?
    /// The build id or artifact: an image tag, a CI run's address.
    public var build: String?
    /// A link to the source at that commit.
    public var source: String?
    /// A link to the changes: a changelog, a pull request.
    public var changes: String?
    /// Who wrote the change.
    public var author: String?

    /// Metadata; nil fields are unknown.
    public init(
        commit: String? = nil,
        build: String? = nil,
        source: String? = nil,
        changes: String? = nil,
        author: String? = nil
    ) {
        self.commit = commit
        self.build = build
        self.source = source
        self.changes = changes
        self.author = author
    }

    /// The fields' names, as the API and the events spell them, in the order people read them.
    public static let keys = ["commit", "build", "source", "changes", "author"]

    /// The longest value accepted.
    public static let maximumLength = 1_000

    /// Whether nothing is known.
    public var isEmpty: Bool { values.allSatisfy { $0.value == nil } }

    /// Each field by its key, in ``keys`` order.
    public var values: [(key: String, value: String?)] {
        [("commit", commit), ("build", build), ("source", source), ("changes", changes), ("author", author)]
    }

    /// The known fields for people: `Commit`, `Build`, `Source`, `Changes`, `Author`, each with its value.
    public var lines: [(label: String, value: String)] {
        values.compactMap { key, value in value.map { (key.prefix(1).uppercased() + key.dropFirst(), $0) } }
    }

    /// The known fields as a JSON object, for events.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        for (key, value) in values { if let value { object[key] = .string(value) } }
        return .object(object)
    }

    /// Metadata read back from an event's JSON object; nil when there is none.
    public init?(json: JSONValue?) {
        guard case .object(let object)? = json else { return nil }
        self.init(
            commit: object["commit"]?.stringValue,
            build: object["build"]?.stringValue,
            source: object["source"]?.stringValue,
            changes: object["changes"]?.stringValue,
            author: object["author"]?.stringValue
        )
        if isEmpty { return nil }
    }

    /// Sets the field named `key` (one of ``keys``); false for another name.
    @discardableResult
    public mutating func set(_ key: String, to value: String?) -> Bool {
        switch key {
        case "commit": commit = value
        case "build": build = value
        case "source": source = value
        case "changes": changes = value
        case "author": author = value
        default: return false
        }
        return true
    }

    /// Why the metadata cannot be recorded, naming the field (`release.source: …`); nil when it can. A value is at most
    /// ``maximumLength`` characters without control characters; `source` and `changes` are http or https links.
    public var problem: String? {
        for (key, value) in values {
            guard let value else { continue }
            if value.isEmpty { return "release.\(key): empty; leave it out instead" }
            if value.count > Self.maximumLength {
                return "release.\(key): \(value.count) characters; at most \(Self.maximumLength)"
            }
            if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                return "release.\(key): contains a control character"
            }
            // Compared as bytes: a character that combines with the `/` before it (a skin-tone modifier, say)
            // would make the prefix's last character another one.
            if key == "source" || key == "changes",
                !(value.utf8.starts(with: "https://".utf8) || value.utf8.starts(with: "http://".utf8))
            {
                return "release.\(key): \"\(value.prefix(60))\" is not an http or https link"
            }
        }
        return nil
    }
}
