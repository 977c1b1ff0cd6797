import SlipwayCore

/// Decides, from probe results and the passing of time, whether one instance is healthy.
///
/// ```
/// starting ──(healthyThreshold successes)──> healthy ⇄ unhealthy ──(stays unhealthy for the grace)──> failed
///     └──(start deadline passes)──> failed
/// ```
/// Probe failures while starting are expected (the process is booting) and only the start deadline ends that
/// state. The machine performs no I/O and reads no clock: every input carries its moment.
public struct HealthMachine: Sendable {
    /// The thresholds the machine applies.
    public struct Policy: Sendable, Equatable {
        /// Consecutive successes that make an instance healthy.
        public var healthyThreshold: Int
        /// Consecutive failures that make a healthy instance unhealthy.
        public var unhealthyThreshold: Int
        /// How long a new instance may take to become healthy.
        public var startDeadline: Duration
        /// How long an instance may stay unhealthy before it is given up on.
        public var unhealthyGrace: Duration

        /// Creates a policy.
        public init(healthyThreshold: Int, unhealthyThreshold: Int, startDeadline: Duration, unhealthyGrace: Duration) {
            precondition(healthyThreshold >= 1 && unhealthyThreshold >= 1, "thresholds start at 1")
            self.healthyThreshold = healthyThreshold
            self.unhealthyThreshold = unhealthyThreshold
            self.startDeadline = startDeadline
            self.unhealthyGrace = unhealthyGrace
        }
    }

    /// Where the instance stands.
    public enum State: Sendable, Equatable {
        /// Booting since `since`; `successes` consecutive probes have passed.
        case starting(since: Moment, successes: Int)
        /// Serving; `failures` consecutive probes have failed.
        case healthy(failures: Int)
        /// Failing since `since`; `successes` consecutive probes have passed again.
        case unhealthy(since: Moment, successes: Int)
        /// Given up on. Terminal.
        case failed
    }

    /// A change worth acting on.
    public enum Transition: Sendable, Equatable {
        /// The instance became healthy; `startup` is how long it took when this ends the starting state.
        case becameHealthy(startup: Duration?)
        /// A healthy instance failed `unhealthyThreshold` probes in a row; `reason` is the last failure.
        case becameUnhealthy(reason: String)
        /// The instance stayed unhealthy for the whole grace period.
        case stayedUnhealthy(for: Duration)
        /// The start deadline passed before the instance became healthy.
        case failedToStart(reason: String)
    }

    /// The policy in force.
    public let policy: Policy
    /// The current state.
    public private(set) var state: State
    private var lastFailure: String?

    /// A machine for an instance that started at `startedAt`.
    public init(policy: Policy, startedAt: Moment) {
        self.policy = policy
        self.state = .starting(since: startedAt, successes: 0)
    }

    /// The next moment at which ``tick(at:)`` can produce a transition, if any.
    public var nextDeadline: Moment? {
        switch state {
        case .starting(let since, _): return since + policy.startDeadline
        case .unhealthy(let since, _): return since + policy.unhealthyGrace
        case .healthy, .failed: return nil
        }
    }

    /// A probe passed at `now`.
    public mutating func probeSucceeded(at now: Moment) -> Transition? {
        if let expired = tick(at: now) { return expired }
        switch state {
        case .starting(let since, let successes):
            if successes + 1 >= policy.healthyThreshold {
                state = .healthy(failures: 0)
                return .becameHealthy(startup: now - since)
            }
            state = .starting(since: since, successes: successes + 1)
        case .healthy:
            state = .healthy(failures: 0)
        case .unhealthy(let since, let successes):
            if successes + 1 >= policy.healthyThreshold {
                state = .healthy(failures: 0)
                return .becameHealthy(startup: nil)
            }
            state = .unhealthy(since: since, successes: successes + 1)
        case .failed:
            break
        }
        return nil
    }

    /// A probe failed at `now` for `reason` (a status code, a timeout, a refused connection).
    public mutating func probeFailed(at now: Moment, reason: String) -> Transition? {
        lastFailure = reason
        if let expired = tick(at: now) { return expired }
        switch state {
        case .starting(let since, _):
            state = .starting(since: since, successes: 0)
        case .healthy(let failures):
            if failures + 1 >= policy.unhealthyThreshold {
                state = .unhealthy(since: now, successes: 0)
                return .becameUnhealthy(reason: reason)
            }
            state = .healthy(failures: failures + 1)
        case .unhealthy(let since, _):
            state = .unhealthy(since: since, successes: 0)
        case .failed:
            break
        }
        return nil
    }

    /// Time passed: report a deadline that has expired by `now`.
    public mutating func tick(at now: Moment) -> Transition? {
        guard let deadline = nextDeadline, now >= deadline else { return nil }
        switch state {
        case .starting:
            state = .failed
            let detail = lastFailure.map { "; last probe: \($0)" } ?? ""
            return .failedToStart(reason: "not healthy within \(DurationText.format(policy.startDeadline))\(detail)")
        case .unhealthy(let since, _):
            state = .failed
            return .stayedUnhealthy(for: now - since)
        case .healthy, .failed:
            return nil
        }
    }
}
