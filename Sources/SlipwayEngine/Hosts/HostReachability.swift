import SlipwayCore

/// Whether one host can be reached, judged from regular looks over SSH, as a pure state machine.
///
/// A host is lost after ``Policy/failuresToLose`` looks in a row that did not reach it (one slow network moment is not
/// a lost host), and back at the first look that does. Each change is reported once, with what the controller needs
/// to record it.
public struct HostReachability: Sendable, Equatable {
    /// When a host counts as lost.
    public struct Policy: Sendable, Equatable {
        /// Looks in a row that did not reach the host before it is lost.
        public var failuresToLose: Int

        /// A policy; two failed looks in a row by default.
        public init(failuresToLose: Int = 2) {
            precondition(failuresToLose >= 1, "a host is lost after at least one failed look")
            self.failuresToLose = failuresToLose
        }
    }

    /// What one look found.
    public enum Look: Sendable, Equatable {
        /// The host ran the command.
        case reached
        /// It did not: why, in SSH's words.
        case failed(String)
    }

    /// A change worth recording.
    public enum Change: Sendable, Equatable {
        /// The host is lost: the last failure's reason.
        case lost(reason: String)
        /// The host is back after being lost for this long.
        case back(after: Duration)
    }

    /// The policy in force.
    public let policy: Policy
    /// Since when the host has been lost; nil while it can be reached.
    public private(set) var lostSince: Moment?
    private var failures = 0
    private var firstFailure: Moment?

    /// A host believed reachable, or lost since `lostSince` (one that could not be reached when the controller
    /// started, or whose return did not take).
    public init(policy: Policy = Policy(), lostSince: Moment? = nil) {
        self.policy = policy
        self.lostSince = lostSince
    }

    /// Whether the host is lost.
    public var isLost: Bool { lostSince != nil }

    /// Takes in one look at `now`; returns the change it makes, if any.
    public mutating func handle(_ look: Look, at now: Moment) -> Change? {
        switch look {
        case .reached:
            failures = 0
            firstFailure = nil
            guard let since = lostSince else { return nil }
            lostSince = nil
            return .back(after: now - since)
        case .failed(let reason):
            failures += 1
            if firstFailure == nil { firstFailure = now }
            guard lostSince == nil, failures >= policy.failuresToLose else { return nil }
            // Lost since the first look that did not reach it.
            lostSince = firstFailure ?? now
            return .lost(reason: reason)
        }
    }
}
