import Hummingbird

/// A request's query, checked strictly: only the parameters an endpoint takes, each at most once, numbers in range.
struct QueryParameters {
    private let values: [String: String]

    /// Reads the query of `request`, refusing parameters outside `accepted` and repeated ones.
    init(_ request: Request, accepting accepted: Set<String>) throws(CommandRefusal) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard accepted.contains(name) else {
                let known = accepted.isEmpty ? "none" : accepted.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                throw CommandRefusal(.badRequest, "unknown query parameter \"\(name)\"; accepted: \(known)")
            }
            guard values[name] == nil else {
                throw CommandRefusal(.badRequest, "query parameter \"\(name)\" is given more than once")
            }
            values[name] = String(value)
        }
        self.values = values
    }

    /// The text of `name`, nil when absent; an empty value is refused.
    func string(_ name: String) throws(CommandRefusal) -> String? {
        guard let value = values[name] else { return nil }
        guard !value.isEmpty else { throw CommandRefusal(.badRequest, "query parameter \"\(name)\" is empty") }
        return value
    }

    /// The whole number `name` within `range`, nil when absent.
    func integer(_ name: String, in range: ClosedRange<Int64>) throws(CommandRefusal) -> Int64? {
        guard let text = try string(name) else { return nil }
        guard let number = Int64(text), range.contains(number) else {
            let bound =
                range.upperBound == .max
                ? "a whole number of at least \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)"
            throw CommandRefusal(.badRequest, "query parameter \"\(name)\": expected \(bound), got \"\(text)\"")
        }
        return number
    }
}
