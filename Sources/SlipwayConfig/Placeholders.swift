/// The `{…}` placeholders of a text the controller fills in: a command's `{port}`, `{version}` and `{release}`, an
/// artifact path's `{version}`, a PromQL query's
/// `{version}`, `{baseline}`, `{app}`, `{environment}`, `{rollout}` and `{window}`.
///
/// A placeholder is a name in braces (`{port}`); braces around anything that is not a name, such as a JSON argument
/// `{"a": 1}` or a PromQL label matcher `{job="shop"}`, are kept as written.
public struct Placeholders: Sendable, Equatable {
    /// The placeholder names, without braces.
    public let names: [String]

    /// A command's placeholders.
    public static let command = Placeholders(names: ["port", "version", "release"])
    /// An artifact path's placeholder.
    public static let artifact = Placeholders(names: ["version"])
    /// The release folder's placeholder alone, filled in where the release is unpacked.
    public static let release = Placeholders(names: ["release"])
    /// A PromQL query's placeholders.
    public static let query = Placeholders(names: ["version", "baseline", "app", "environment", "rollout", "window"])

    /// A problem message for every unknown placeholder in `text`.
    public func problems(in text: String) -> [String] {
        var problems: [String] = []
        Self.scan(text) { name in
            if !names.contains(name) { problems.append(message(forUnknown: name)) }
            return nil
        }
        return problems
    }

    /// `text` with every known placeholder replaced by its value in `values`; the rest kept as written.
    public func render(_ text: String, _ values: [String: String]) -> String {
        Self.scan(text) { name in names.contains(name) ? values[name] : nil }
    }

    /// Walks the placeholders of `text`, replacing those `replace` gives a value for; returns the result.
    @discardableResult
    private static func scan(_ text: String, _ replace: (String) -> String?) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let afterOpen = rest[rest.index(after: open)...]
            let name = afterOpen.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            let afterName = afterOpen[name.endIndex...]
            guard !name.isEmpty, afterName.first == "}" else {
                result += rest[...open]
                rest = afterOpen
                continue
            }
            result += rest[..<open]
            result += replace(String(name)) ?? "{\(name)}"
            rest = afterName.dropFirst()
        }
        return result + rest
    }

    private func message(forUnknown name: String) -> String {
        if let suggestion = KeySuggestion.closest(to: name, among: names) {
            return "unknown placeholder `{\(name)}`; did you mean `{\(suggestion)}`?"
        }
        let listed = names.map { "`{\($0)}`" }
        guard listed.count > 1 else { return "unknown placeholder `{\(name)}`; the only one is \(listed.joined())" }
        return "unknown placeholder `{\(name)}`; the placeholders are "
            + (listed.count == 2
                ? listed.joined(separator: " and ")
                : listed.dropLast().joined(separator: ", ") + " and " + listed.last!)
    }
}
