/// Checking the `{…}` placeholders of a command.
enum CommandPlaceholders {
    /// The placeholder names, without braces.
    static let names = ["port", "version"]

    /// A problem message for every unknown placeholder in `argument`.
    ///
    /// A placeholder is a name in braces (`{port}`); braces around anything that is not a name, such as a JSON
    /// argument `{"a": 1}`, are kept as written.
    static func problems(in argument: String) -> [String] {
        var problems: [String] = []
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            let afterOpen = rest[rest.index(after: open)...]
            let name = afterOpen.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            let afterName = afterOpen[name.endIndex...]
            guard !name.isEmpty, afterName.first == "}" else {
                rest = afterOpen
                continue
            }
            if !names.contains(String(name)) {
                problems.append(message(forUnknown: String(name)))
            }
            rest = afterName.dropFirst()
        }
        return problems
    }

    private static func message(forUnknown name: String) -> String {
        if let suggestion = KeySuggestion.closest(to: name, among: names) {
            return "unknown placeholder `{\(name)}`; did you mean `{\(suggestion)}`?"
        }
        return "unknown placeholder `{\(name)}`; the placeholders are `{port}` and `{version}`"
    }
}
