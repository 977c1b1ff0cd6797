import SlipwayCore

/// Keeps one app at its instance count on its stable release: starts what is missing, replaces what fails,
/// and backs off when replacements keep failing.
///
/// Inputs are facts (an instance started, became healthy, exited); outputs are ``Action``s for the executor.
/// The machine performs no I/O and reads no clock.
public struct SupervisorMachine: Sendable {
    /// What the machine is asked to maintain.
    public struct Policy: Sendable, Equatable {
        /// The app's name.
        public var app: String
        /// The release to run.
        public var version: String
        /// How many instances to keep running.
        public var instances: Int
        /// Delays between replacements of failing instances.
        public var backoff: CrashBackoff
        /// An instance that ran at least this long before failing starts a fresh failure count.
        public var resetAfter: Duration

        /// Creates a policy.
        public init(app: String, version: String, instances: Int, backoff: CrashBackoff, resetAfter: Duration) {
            self.app = app
            self.version = version
            self.instances = instances
            self.backoff = backoff
            self.resetAfter = resetAfter
        }
    }

    /// A fact the executor reports.
    public enum Input: Sendable, Equatable, InstanceFactInput {
        /// Bring the app up to its instance count.
        case begin
        /// A fact about one instance.
        case instance(InstanceFact)
        /// A timer the machine scheduled has fired.
        case timerFired
        /// Stop every instance and start no more.
        case shutdown
    }

    /// Work for the executor.
    public enum Action: Sendable, Equatable {
        /// Start a new instance of `version`.
        case start(InstanceID, version: String)
        /// Stop the instance gracefully.
        case stop(InstanceID, reason: String)
        /// Append the event to the log.
        case record(Event)
        /// Deliver ``Input/timerFired`` at `at`.
        case scheduleTimer(at: Moment)
    }

    /// Where one instance stands, as far as supervision cares.
    public enum Phase: Sendable, Equatable {
        /// Requested from the platform, not yet started.
        case launching
        /// Running, not yet healthy.
        case starting
        /// Running and healthy.
        case healthy
        /// Running and failing its health check.
        case unhealthy
        /// Asked to stop; its exit is expected.
        case stopping
    }

    struct Member: Sendable, Equatable {
        var phase: Phase
        var startedAt: Moment?
        var version: String
    }

    /// The policy in force.
    public let policy: Policy
    private(set) var members: [InstanceID: Member] = [:]
    private var nextNumber: Int
    private var failureStreak = 0
    private var holdUntil: Moment?
    private var pendingReplacements: [(failed: InstanceID, reason: String)] = []
    private var shuttingDown = false

    /// A machine whose next instance is numbered `firstInstanceNumber` (numbers never repeat within an app).
    public init(policy: Policy, firstInstanceNumber: Int = 1) {
        self.policy = policy
        self.nextNumber = firstInstanceNumber
    }

    /// A machine taking over running instances (after a rollout, or from an earlier controller), each in its phase.
    public init(policy: Policy, firstInstanceNumber: Int, adopting instances: [InstanceID: Phase]) {
        self.init(policy: policy, firstInstanceNumber: firstInstanceNumber)
        for (id, phase) in instances {
            members[id] = Member(phase: phase, startedAt: nil, version: policy.version)
        }
    }

    /// The number the next instance started will get.
    public var nextInstanceNumber: Int { nextNumber }

    /// The phase of every instance the machine knows, by id.
    public var phases: [InstanceID: Phase] { members.mapValues(\.phase) }

    /// True once ``Input/shutdown`` was received and every instance has exited.
    public var isStopped: Bool { shuttingDown && members.isEmpty }

    /// Consecutive failures counted toward the backoff.
    public var consecutiveFailures: Int { failureStreak }

    /// Feeds one input at `now` and returns what to do, in order.
    public mutating func handle(_ input: Input, at now: Moment) -> [Action] {
        switch input {
        case .begin:
            return fillUp(at: now)
        case .instance(.started(let id)):
            guard var member = members[id], member.phase == .launching else { return [] }
            member.phase = .starting
            member.startedAt = now
            members[id] = member
            return []
        case .instance(.startFailed(let id, let reason)):
            guard members.removeValue(forKey: id) != nil else { return [] }
            return failed(id, reason: "could not start: \(reason)", ranFor: .zero, at: now)
        case .instance(.healthy(let id)):
            setPhase(.healthy, of: id)
            return trimSurplus()
        case .instance(.unhealthy(let id)):
            setPhase(.unhealthy, of: id)
            return []
        case .instance(.failedToStart(let id, let reason)), .instance(.stayedUnhealthy(let id, let reason)):
            guard var member = members[id], member.phase != .stopping else { return [] }
            member.phase = .stopping
            members[id] = member
            let ranFor = member.startedAt.map { now - $0 } ?? .zero
            return [.stop(id, reason: reason), record(.instanceStopping, id, ["reason": .string(reason)])]
                + failed(id, reason: reason, ranFor: ranFor, at: now)
        case .instance(.exited(let id, let status)):
            guard let member = members.removeValue(forKey: id) else { return [] }
            if member.phase == .stopping { return [] }
            let ranFor = member.startedAt.map { now - $0 } ?? .zero
            let when = member.phase == .healthy || member.phase == .unhealthy ? "" : " while starting"
            return failed(id, reason: "exited with \(status)\(when)", ranFor: ranFor, at: now)
        case .timerFired:
            return fillUp(at: now)
        case .shutdown:
            shuttingDown = true
            pendingReplacements.removeAll()
            var actions: [Action] = []
            for (id, member) in members.sorted(by: { $0.key < $1.key }) where member.phase != .stopping {
                members[id]?.phase = .stopping
                actions.append(.stop(id, reason: "controller shutting down"))
                actions.append(record(.instanceStopping, id, ["reason": "controller shutting down"]))
            }
            return actions
        }
    }

    private mutating func setPhase(_ phase: Phase, of id: InstanceID) {
        guard let member = members[id], member.phase != .stopping, member.phase != .launching else { return }
        members[id]?.phase = phase
    }

    /// Counts a failure, then replaces the instance now or after the backoff delay.
    private mutating func failed(_ id: InstanceID, reason: String, ranFor: Duration, at now: Moment) -> [Action] {
        if ranFor >= policy.resetAfter { failureStreak = 0 }
        failureStreak += 1
        guard !shuttingDown else { return [] }
        pendingReplacements.append((id, reason))
        let delay = policy.backoff.delay(afterFailures: failureStreak)
        if delay > .zero {
            let until = now + delay
            holdUntil = max(holdUntil ?? until, until)
            return [
                record(
                    .crashLoopBackoff,
                    id,
                    [
                        "failures": .int(failureStreak),
                        "delay": .string(DurationText.format(delay)),
                        "delayMs": .int(Int(delay.milliseconds)),
                        "reason": .string(reason),
                    ]
                ),
                .scheduleTimer(at: until),
            ]
        }
        return fillUp(at: now)
    }

    /// Once enough instances are healthy, stops those beyond the count (one taken over from a host that was cut
    /// off while a replacement started elsewhere, or from a controller that ran more): the ones not healthy first,
    /// then the newest.
    private mutating func trimSurplus() -> [Action] {
        guard !shuttingDown else { return [] }
        let active = members.filter { $0.value.phase != .stopping }
        let healthy = active.filter { $0.value.phase == .healthy }.count
        guard active.count > policy.instances, healthy >= policy.instances else { return [] }
        let surplus = active.sorted { lhs, rhs in
            let (left, right) = (lhs.value.phase == .healthy, rhs.value.phase == .healthy)
            return left != right ? !left : lhs.key > rhs.key
        }.prefix(active.count - policy.instances)
        var actions: [Action] = []
        for (id, _) in surplus {
            members[id]?.phase = .stopping
            let reason = "more than the app's \(policy.instances) instances"
            actions.append(.stop(id, reason: reason))
            actions.append(record(.instanceStopping, id, ["reason": .string(reason)]))
        }
        return actions
    }

    /// Starts as many instances as the count is short, unless a backoff holds them.
    private mutating func fillUp(at now: Moment) -> [Action] {
        guard !shuttingDown else { return [] }
        let trimmed = trimSurplus()
        if !trimmed.isEmpty { return trimmed }
        if let holdUntil, now < holdUntil { return [.scheduleTimer(at: holdUntil)] }
        holdUntil = nil
        let active = members.values.filter { $0.phase != .stopping }.count
        var actions: [Action] = []
        for _ in 0..<max(0, policy.instances - active) {
            let id = InstanceID(app: policy.app, number: nextNumber)
            nextNumber += 1
            members[id] = Member(phase: .launching, startedAt: nil, version: policy.version)
            if !pendingReplacements.isEmpty {
                let replaced = pendingReplacements.removeFirst()
                actions.append(
                    record(
                        .instanceReplaced,
                        replaced.failed,
                        ["by": .string(id.rawValue), "reason": .string(replaced.reason)]
                    )
                )
            }
            actions.append(.start(id, version: policy.version))
        }
        return actions
    }

    private func record(_ kind: EventKind, _ id: InstanceID, _ fields: [String: JSONValue]) -> Action {
        .record(Event(app: policy.app, kind: kind, instance: id, fields: fields))
    }
}
