/// The requests that compare versions like with like, counted apart: a *comparison unit* is a request the weights
/// assigned (not a match rule, not a fallback), and with stickiness only the first request of a user new to the app
/// since the versions taking traffic last changed.
///
/// Without stickiness every request draws its own random bucket, so each request is a unit. With stickiness a user's
/// requests stay on one version and are not independent, but a new user's first request went to a version at random
/// with its weight (the user's bucket is random), like any unsticky request. Users who move to the candidate when its
/// weight grows were counted on the stable version already and are not counted again. The comparisons with the stable
/// version judge units, so that neither sticky users nor rule-chosen requests overstate the evidence.
public struct ComparisonUnits: Sendable, Equatable, Codable {
    /// Units whose response finished.
    public var units: Int
    /// Of those, the ones answered 5xx (by the app or by the proxy).
    public var bad: Int

    /// Counts.
    public init(units: Int = 0, bad: Int = 0) {
        self.units = units
        self.bad = bad
    }

    /// Both together.
    public func adding(_ other: ComparisonUnits) -> ComparisonUnits {
        ComparisonUnits(units: units + other.units, bad: bad + other.bad)
    }

    /// What these cumulative counts gained since `earlier`.
    public func subtracting(_ earlier: ComparisonUnits) -> ComparisonUnits {
        ComparisonUnits(units: max(0, units - earlier.units), bad: max(0, bad - earlier.bad))
    }
}
