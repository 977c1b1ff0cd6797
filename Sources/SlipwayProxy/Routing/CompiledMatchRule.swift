import NIOHTTP1

/// A match rule made ready for the request path: its regular expression compiled and its version resolved to an index.
struct CompiledMatchRule: Sendable {
    /// The rule's condition with any regular expression compiled.
    enum Test: Sendable {
        case headerEquals(name: String, value: String)
        case headerMatches(name: String, pattern: SharedRegex)
        case cookieEquals(name: String, value: String)
    }

    let test: Test
    /// The index of the rule's version in the table's versions.
    let versionIndex: Int

    /// Whether the request satisfies the rule. Header conditions hold when any field with the name does.
    func matches(_ headers: some RoutingFields) -> Bool {
        switch test {
        case .headerEquals(let name, let expected):
            return headers.firstValue(named: name) { value in
                RoutingBytes.of(expected) { RoutingBytes.equal(value, $0) } ? true : nil
            } ?? false
        case .headerMatches(let name, let pattern):
            return headers.firstValue(named: name) { value in
                pattern.matchesWhole(String(decoding: value, as: UTF8.self)) ? true : nil
            } ?? false
        case .cookieEquals(let name, let expected):
            return RoutingCookies.value(named: name, in: headers) { value in
                RoutingBytes.of(expected) { RoutingBytes.equal(value, $0) }
            } ?? false
        }
    }
}

/// A compiled regular expression shared by every event loop.
///
/// `Regex` is not declared `Sendable` only because its output type may not be; a `Regex<AnyRegexOutput>` is immutable
/// and compiles its matching program once through an atomic lazy reference, so concurrent matching is safe.
struct SharedRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `pattern`, throwing the parser's error when it is invalid.
    init(_ pattern: String) throws {
        regex = try Regex(pattern)
        // Lower the program now rather than on the first request.
        _ = "".wholeMatch(of: regex)
    }

    /// Whether the expression matches all of `value`.
    func matchesWhole(_ value: String) -> Bool {
        value.wholeMatch(of: regex) != nil
    }
}
