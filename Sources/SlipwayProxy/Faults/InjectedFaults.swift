/// Requests a fault of the proxy affected, by what it did, counted apart from the app's own responses: an aborted or
/// reset request reached no instance and is not among the version's requests at all; a delayed request is, with the
/// delay left out of its latency; a throttled one is, its slower transfer included.
public struct InjectedFaults: Sendable, Equatable, Codable {
    /// Answered by the proxy with the fault's status.
    public var aborted = 0
    /// Held before being sent on.
    public var delayed = 0
    /// Ended by a reset of the client's connection.
    public var reset = 0
    /// Sent at a limited rate.
    public var throttled = 0

    /// None.
    public init(aborted: Int = 0, delayed: Int = 0, reset: Int = 0, throttled: Int = 0) {
        self.aborted = aborted
        self.delayed = delayed
        self.reset = reset
        self.throttled = throttled
    }

    /// Every request affected.
    public var total: Int { aborted + delayed + reset + throttled }

    /// The count of one kind.
    public subscript(kind: FaultSpec.Kind) -> Int {
        get {
            switch kind {
            case .abort: aborted
            case .delay: delayed
            case .reset: reset
            case .bandwidth: throttled
            }
        }
        set {
            switch kind {
            case .abort: aborted = newValue
            case .delay: delayed = newValue
            case .reset: reset = newValue
            case .bandwidth: throttled = newValue
            }
        }
    }

    /// Both counts together.
    public func adding(_ other: InjectedFaults) -> InjectedFaults {
        InjectedFaults(
            aborted: aborted + other.aborted,
            delayed: delayed + other.delayed,
            reset: reset + other.reset,
            throttled: throttled + other.throttled
        )
    }

    /// What happened between `earlier` and this (cumulative) count; a count that went down (a data plane started
    /// anew) counts from zero.
    public func since(_ earlier: InjectedFaults) -> InjectedFaults {
        func delta(_ now: Int, _ then: Int) -> Int { now >= then ? now - then : now }
        return InjectedFaults(
            aborted: delta(aborted, earlier.aborted),
            delayed: delta(delayed, earlier.delayed),
            reset: delta(reset, earlier.reset),
            throttled: delta(throttled, earlier.throttled)
        )
    }
}
