/// The requests that compare versions like with like, counted apart: a *comparison unit* is a request the weights
/// assigned (not a match rule, not a fallback), and with stickiness only the first request of a user new to the app
/// since the versions taking traffic last changed.
///
/// Without stickiness every request draws its own random bucket, so each request is a unit. With stickiness a user's
/// requests stay on one version and are not independent, but a new user's first request went to a version at random
/// with its weight (the user's bucket is random), like any unsticky request. Users who move to the candidate when its
/// weight grows were counted on the stable version already and are not counted again. The comparisons with the stable
/// version judge units, so that neither sticky users nor rule-chosen requests overstate the evidence; so do the A/B
/// experiments of sticky users, with the outcomes and the response times of the units.
public struct ComparisonUnits: Sendable, Equatable, Codable {
    /// Units whose response finished.
    public var units: Int
    /// Of those, the ones answered 5xx (by the app or by the proxy).
    public var bad: Int
    /// The outcomes the units' responses reported (``OutcomeTally``), by name.
    public var outcomes: [String: OutcomeTally]
    /// The units' response times, in milliseconds: their count, sum and sum of squares.
    public var latency: OutcomeTally

    /// Counts.
    public init(units: Int = 0, bad: Int = 0, outcomes: [String: OutcomeTally] = [:], latency: OutcomeTally = .init()) {
        self.units = units
        self.bad = bad
        self.outcomes = outcomes
        self.latency = latency
    }

    private enum CodingKeys: String, CodingKey {
        case units, bad, outcomes, latency
    }

    /// Decodes counts; a data plane of an earlier version sends no outcomes or response times.
    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            units: try values.decode(Int.self, forKey: .units),
            bad: try values.decode(Int.self, forKey: .bad),
            outcomes: try values.decodeIfPresent([String: OutcomeTally].self, forKey: .outcomes) ?? [:],
            latency: try values.decodeIfPresent(OutcomeTally.self, forKey: .latency) ?? OutcomeTally()
        )
    }

    /// Both together.
    public func adding(_ other: ComparisonUnits) -> ComparisonUnits {
        ComparisonUnits(
            units: units + other.units,
            bad: bad + other.bad,
            outcomes: outcomes.merging(other.outcomes) { $0.adding($1) },
            latency: latency.adding(other.latency)
        )
    }

    /// What these cumulative counts gained since `earlier`.
    public func subtracting(_ earlier: ComparisonUnits) -> ComparisonUnits {
        var gained: [String: OutcomeTally] = [:]
        for (name, tally) in outcomes {
            let since = earlier.outcomes[name].map { tally.subtracting($0) } ?? tally
            if since.responses > 0 { gained[name] = since }
        }
        return ComparisonUnits(
            units: max(0, units - earlier.units),
            bad: max(0, bad - earlier.bad),
            outcomes: gained,
            latency: latency.subtracting(earlier.latency)
        )
    }
}
