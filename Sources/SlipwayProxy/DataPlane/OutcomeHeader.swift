import NIOHTTP1
import SlipwayCore

/// The `X-Slipway-Outcome` response header, by which an app reports what a response achieved for an experiment.
///
/// Its value is a comma-separated list of outcomes, each a bare name (`converted`, counting 1) or `name=number`
/// (`revenue=12.50`); the header may appear more than once. Names are 1 to 64 letters, digits, `_`, `-` or `.`;
/// anything else in an item, or a value beyond ±``OutcomeTally/largestValue``, makes the proxy ignore that item. The header is the app's message to the proxy, so it is
/// removed before the response reaches the client.
enum OutcomeHeader {
    static let name = "X-Slipway-Outcome"
    /// More outcomes than this on one response are ignored.
    static let maximumPerResponse = 16

    /// The outcomes in the values of the header's fields, each name once with its values summed.
    static func outcomes(in values: [String]) -> [(name: String, value: Double)] {
        var outcomes: [(name: String, value: Double)] = []
        for value in values {
            for item in value.split(separator: ",") {
                guard let outcome = parse(item) else { continue }
                if let index = outcomes.firstIndex(where: { $0.name == outcome.name }) {
                    outcomes[index].value += outcome.value
                } else if outcomes.count < maximumPerResponse {
                    outcomes.append(outcome)
                }
            }
        }
        return outcomes
    }

    /// One item, `name` or `name=number`, spaces around either part allowed; nil when it is not one.
    static func parse(_ item: Substring) -> (name: String, value: Double)? {
        let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].trimmingSpaces()
        guard OutcomeTally.isName(name) else { return nil }
        guard parts.count == 2 else { return (String(name), 1) }
        guard let value = Double(parts[1].trimmingSpaces()), value.isFinite, abs(value) <= OutcomeTally.largestValue
        else { return nil }
        return (String(name), value)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return Substring(slice)
    }
}
