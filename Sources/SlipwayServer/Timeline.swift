import SlipwayCore

/// Maps the controller's monotonic clock onto the ``Moment`` values the state machines take.
struct Timeline: Sendable {
    private let origin = ContinuousClock.now

    /// The moment that is now.
    var now: Moment { Moment(ContinuousClock.now - origin) }
}
