import SlipwayConfig
import SlipwayCore

/// One app, as a pure state machine: it owns the app's ``SupervisorMachine`` between rollouts and its
/// ``RolloutMachine`` during one, and holds every rule about moving between them.
///
/// The machine decides; the executor acts. Facts come in (an instance started or exited, a probe verdict, a timer, a
/// metrics window, hooks that ended, a user's command); ``Action``s come out, in order. It decides:
/// - the hand-off from supervision to a rollout (every instance keeps its phase) and back when the rollout ends
///   (supervision takes over on the winning release, numbering goes on);
/// - the routes between rollouts (every healthy instance of the stable release, equal shares);
/// - which deploys, restarts, retries and rollbacks are accepted, and a deploy that supersedes a running rollout
///   (it waits until traffic is back on stable, then begins);
/// - after a controller restart, the role of every instance still alive and whether the unfinished rollout carries
///   on ``recover(_:adopted:resuming:elapsed:at:)``.
///
/// Tolerated races, each ignored on purpose: hooks, a warm-up or a metrics window that end after their rollout did
/// (their work was cancelled, the answer may still arrive); facts about an instance no machine knows any more (an
/// instance stopped at recovery, or exited after the machine forgot it); a prepared rollout whose chance went by
/// (``begin(_:at:)``). Impossible transitions stop the process with a message: an instance starting that nobody asked
/// for, an app brought up twice, a rollout beginning while the app is not under supervision.
public struct AppMachine: Sendable {
    /// Who is in charge of the app's instances.
    public enum Mode: Sendable {
        /// Between rollouts: supervision keeps the stable release at its count.
        case steady(SupervisorMachine)
        /// During a rollout: the rollout owns every instance.
        case rollout(RolloutMachine)
    }

    /// A fact the executor reports.
    public enum Input: Sendable, Equatable, InstanceFactInput {
        /// A fact about one instance.
        case instance(InstanceFact)
        /// A timer the machine scheduled has fired.
        case timerFired
        /// An instance's warm-up is over.
        case warmedUp(InstanceID)
        /// Traffic per version over one window, on the app's listener and its preview listener, and of mirrored
        /// requests (see ``RolloutMachine/Input/metrics(_:preview:mirror:)``).
        case metrics(MetricsWindow, preview: MetricsWindow?, mirror: MetricsWindow? = nil)
        /// The hooks of a point that rollout `rollout` waited for have ended (nil: all succeeded).
        case hooksFinished(HookPoint, failure: String?, rollout: Int)
        /// The fault a chaos step of rollout `rollout` asked for could not be put in force.
        case chaosFaultFailed(String, rollout: Int)
        /// The host that runs `instances` cannot be reached; a rollout under way holds
        /// (``RolloutMachine/Input/hostUnreachable(_:instances:)``), and one begun meanwhile starts held.
        case hostUnreachable(String, instances: Set<InstanceID>)
        /// The host can be reached again.
        case hostReachable(String)
    }

    /// What the hooks of a point are told about the rollout.
    public struct HookContext: Sendable, Equatable {
        /// The rollout's plan.
        public var plan: RolloutPlan
        /// Candidate instances that take traffic now.
        public var candidates: [InstanceID]
        /// How the rollout ended, once it has.
        public var outcome: RolloutMachine.Outcome?
        /// Why it went back, when it did.
        public var rollbackReason: String?
    }

    /// Work for the executor.
    public enum Action: Sendable, Equatable {
        /// Start a new instance of `release`; `role` and `rollout` say which rollout started it, if one did.
        case start(InstanceID, release: Release, role: RolloutMachine.Role?, rollout: Int?)
        /// Drain the instance (already out of the routes) and stop it.
        case stop(InstanceID, reason: String)
        /// Warm the instance up, then report ``Input/warmedUp(_:)``.
        case warmUp(InstanceID)
        /// Make the data plane obey this plan.
        case setRoutes(RoutePlan)
        /// Deliver ``Input/timerFired`` at this moment (an earlier pending timer stays).
        case scheduleTimer(at: Moment)
        /// Run the hooks of a point; answer with ``Input/hooksFinished(_:failure:rollout:)`` for points a rollout
        /// waits for.
        case runHooks(HookPoint, HookContext)
        /// Append the event to the log.
        case record(Event)
        /// Record the last lines of the instance's standard error as an `instanceLogTail` event of rollout `rollout`.
        case recordStderrTail(InstanceID, version: String, rollout: Int)
        /// The rollout has ended: stop sampling its metrics, cancel its hooks, close its preview listener.
        case rolloutEnded(number: Int)
        /// A deploy that waited for the rollout it superseded can begin: prepare it (its preview listener), then
        /// call ``begin(_:at:)``.
        case beginRollout(RolloutPlan)
        /// Put a chaos step's fault in force for rollout `rollout` in place of any earlier one, or remove it (nil);
        /// answer ``Input/chaosFaultFailed(_:rollout:)`` when it cannot be put in force.
        case setChaosFault(ChaosStepFault?, rollout: Int)
    }

    /// A rollout that has ended, as much as a later `retry` or command needs of it.
    public struct EndedRollout: Sendable, Equatable {
        /// Its plan.
        public var plan: RolloutPlan
        /// How it ended: `promoted`, `rolledBack`, `aborted` or `superseded`.
        public var outcome: String
        /// The step it ended at.
        public var step: Int
        /// Why it went back, when it did.
        public var reason: String?
    }

    /// A deploy waiting for the rollout it supersedes to end.
    public struct PendingDeploy: Sendable, Equatable {
        /// The request.
        public var request: DeployRequest
        /// The number its rollout will have.
        public var number: Int
    }

    /// The app's configuration.
    public let spec: AppSpec
    /// Who is in charge now.
    public private(set) var mode: Mode
    /// The release between rollouts.
    public private(set) var stable: Release
    /// Releases that were stable, oldest first, each once (for `rollback`).
    public private(set) var releases: [Release]
    /// The highest rollout number used or reserved.
    public private(set) var lastNumber: Int
    /// The current rollout, or the last one this machine ran.
    public private(set) var lastRollout: RolloutMachine?
    /// The last rollout that ended (also when an earlier controller ran it).
    public private(set) var lastEnded: EndedRollout?
    /// A deploy waiting for the rollout it supersedes to end.
    public private(set) var pending: PendingDeploy?
    /// The routes last asked for.
    public private(set) var routes = RoutePlan(groups: [])
    /// The hosts that cannot be reached now, with the instances they run.
    public private(set) var unreachableHosts: [String: Set<InstanceID>] = [:]
    private var recovered = false

    /// An app about to be brought up on `stable` (nil: the version its config names), with `releases` its earlier
    /// stable releases and `lastNumber` its highest rollout number so far.
    public init(
        spec: AppSpec,
        stable: Release? = nil,
        releases: [Release] = [],
        lastNumber: Int = 0,
        firstInstanceNumber: Int = 1
    ) {
        let stable = stable ?? Release(version: spec.version)
        self.spec = spec
        self.stable = stable
        self.releases = releases.isEmpty ? [stable] : releases
        self.lastNumber = lastNumber
        self.mode = .steady(
            SupervisorMachine(policy: Self.supervision(spec, stable), firstInstanceNumber: firstInstanceNumber)
        )
    }

    // MARK: Reading

    /// The rollout in progress, if any.
    public var running: RolloutMachine? {
        if case .rollout(let machine) = mode, machine.outcome == nil { return machine }
        return nil
    }

    /// The number the next instance gets.
    public var nextInstanceNumber: Int {
        switch mode {
        case .steady(let machine): return machine.nextInstanceNumber
        case .rollout(let machine): return machine.nextInstanceNumber
        }
    }

    /// Whether the instance was asked to stop (its exit is expected).
    public func isStopping(_ id: InstanceID) -> Bool {
        switch mode {
        case .steady(let machine): return machine.phases[id] == .stopping
        case .rollout(let machine): return machine.instances[id]?.phase == .stopping
        }
    }

    /// Whether the machine in charge knows the instance.
    public func knows(_ id: InstanceID) -> Bool {
        switch mode {
        case .steady(let machine): return machine.phases[id] != nil
        case .rollout(let machine): return machine.instances[id] != nil
        }
    }

    // MARK: Inputs

    /// Brings the app up on its stable release (the first input of an app with nothing to recover).
    public mutating func begin(at now: Moment) -> [Action] {
        markRecovered()
        return feedSupervisor(.begin, at: now)
    }

    /// Feeds one input at `now` and returns what to do, in order.
    public mutating func handle(_ input: Input, at now: Moment) -> [Action] {
        switch (input, mode) {
        case (.instance(let fact), _):
            if case .started(let id) = fact {
                precondition(knows(id), "\(spec.name): \(id) started, but no machine asked for it")
            }
            return feed(.instance(fact), or: .instance(fact), at: now)
        case (.timerFired, _):
            return feed(.timerFired, or: .timerFired, at: now)
        case (.warmedUp(let id), .rollout):
            return feedRollout(.warmedUp(id), at: now)
        case (.metrics(let window, let preview, let mirror), .rollout):
            return running == nil ? [] : feedRollout(.metrics(window, preview: preview, mirror: mirror), at: now)
        case (.hooksFinished(let point, let failure, let number), .rollout(let machine)):
            guard machine.plan.number == number, machine.outcome == nil else { return [] }
            return feedRollout(.hooksFinished(point, failure: failure), at: now)
        case (.chaosFaultFailed(let reason, let number), .rollout(let machine)):
            guard machine.plan.number == number, machine.outcome == nil else { return [] }
            return feedRollout(.chaosFaultFailed(reason), at: now)
        case (.warmedUp, .steady), (.metrics, .steady), (.hooksFinished, .steady), (.chaosFaultFailed, .steady):
            // Their rollout has ended; what they report no longer matters.
            return []
        case (.hostUnreachable(let host, let instances), _):
            unreachableHosts[host, default: []].formUnion(instances)
            // Without a rollout, the health checks take the host's instances out of the routes, as any that fail.
            return running == nil ? [] : feedRollout(.hostUnreachable(host, instances: instances), at: now)
        case (.hostReachable(let host), _):
            guard unreachableHosts.removeValue(forKey: host) != nil, running != nil else { return [] }
            return feedRollout(.hostReachable(host), at: now)
        }
    }

    /// Begins a rollout the executor has prepared (a command answered ``CommandAnswer/startRollout(_:message:actions:)``,
    /// or a waiting deploy's ``Action/beginRollout(_:)``). A plan that lost its chance meanwhile (another rollout
    /// began first, or its candidate became stable) is dropped and recorded.
    public mutating func begin(_ plan: RolloutPlan, at now: Moment) -> [Action] {
        let waited = pending?.number == plan.number
        if waited { pending = nil }
        // A tolerated race: the executor prepares a plan (awaits its preview listener) between the answer and this
        // call, and another command may have begun a rollout meanwhile. The first one wins.
        if let machine = running { return [drop(plan, "rollout #\(machine.plan.number) began first")] }
        if waited, plan.candidate == stable { return [drop(plan, "\(plan.candidate.version) is already stable")] }
        guard case .steady(let supervisor) = mode else {
            preconditionFailure("\(spec.name): rollout #\(plan.number) begins outside supervision")
        }
        var current: [InstanceID: RolloutMachine.InstancePhase] = [:]
        for (id, phase) in supervisor.phases { current[id] = Self.rolloutPhase(phase) }
        var machine = RolloutMachine(plan: plan, current: current, firstInstanceNumber: nextInstanceNumber)
        lastNumber = max(lastNumber, plan.number)
        var actions = machine.handle(.begin, at: now)
        for (host, instances) in unreachableHosts.sorted(by: { $0.key < $1.key }) {
            actions += machine.handle(.hostUnreachable(host, instances: instances), at: now)
        }
        return took(machine, actions, at: now)
    }

    // MARK: Feeding

    private mutating func feed(
        _ steady: SupervisorMachine.Input,
        or rollout: RolloutMachine.Input,
        at now: Moment
    ) -> [Action] {
        switch mode {
        case .steady: return feedSupervisor(steady, at: now)
        case .rollout: return feedRollout(rollout, at: now)
        }
    }

    mutating func feedSupervisor(_ input: SupervisorMachine.Input, at now: Moment) -> [Action] {
        guard case .steady(var machine) = mode else { return [] }
        let decided = machine.handle(input, at: now)
        mode = .steady(machine)
        var actions: [Action] = []
        let healthy = machine.phases.filter { $0.value == .healthy }.map(\.key).sorted()
        let steadyRoutes = RoutePlan(
            groups: healthy.isEmpty ? [] : [.init(version: stable.version, weight: 10_000, instances: healthy)]
        )
        // Out of the routes first: an instance about to stop takes no new request.
        if steadyRoutes != routes {
            routes = steadyRoutes
            actions.append(.setRoutes(steadyRoutes))
        }
        for action in decided {
            switch action {
            case .start(let id, _): actions.append(.start(id, release: stable, role: nil, rollout: nil))
            case .stop(let id, let reason): actions.append(.stop(id, reason: reason))
            case .record(let event): actions.append(.record(event))
            case .scheduleTimer(let moment): actions.append(.scheduleTimer(at: moment))
            }
        }
        return actions
    }

    mutating func feedRollout(_ input: RolloutMachine.Input, at now: Moment) -> [Action] {
        guard case .rollout(var machine) = mode else { return [] }
        let actions = machine.handle(input, at: now)
        return took(machine, actions, at: now)
    }

    /// Takes the rollout machine's new state and its actions; hands the app back to supervision when it has ended.
    mutating func took(_ machine: RolloutMachine, _ decided: [RolloutMachine.Action], at now: Moment) -> [Action] {
        mode = .rollout(machine)
        lastRollout = machine
        var actions: [Action] = []
        for action in decided {
            switch action {
            case .start(let id, let release):
                actions.append(
                    .start(id, release: release, role: machine.instances[id]?.role, rollout: machine.plan.number)
                )
            case .stop(let id, let reason): actions.append(.stop(id, reason: reason))
            case .warmUp(let id): actions.append(.warmUp(id))
            case .setRoutes(let plan):
                routes = plan
                actions.append(.setRoutes(plan))
            case .scheduleTimer(let moment): actions.append(.scheduleTimer(at: moment))
            case .runHooks(let point): actions.append(.runHooks(point, hookContext(machine)))
            case .record(let event): actions.append(.record(event))
            case .recordStderrTail(let id, let version):
                actions.append(.recordStderrTail(id, version: version, rollout: machine.plan.number))
            case .setChaosFault(let fault):
                actions.append(.setChaosFault(fault, rollout: machine.plan.number))
            }
        }
        if machine.outcome != nil { actions += ended(machine, at: now) }
        return actions
    }

    private func hookContext(_ machine: RolloutMachine) -> HookContext {
        HookContext(
            plan: machine.plan,
            candidates: machine.instances.filter { $0.value.role == .candidate && $0.value.phase == .ready }
                .keys.sorted(),
            outcome: machine.outcome,
            rollbackReason: machine.rollback?.reason
        )
    }

    /// Hands the app back to supervision on the winning release, and lets a waiting deploy begin.
    private mutating func ended(_ machine: RolloutMachine, at now: Moment) -> [Action] {
        let winner = machine.winner
        stable = winner
        releases.removeAll { $0 == winner }
        releases.append(winner)
        lastEnded = EndedRollout(
            plan: machine.plan,
            outcome: machine.stateName,
            step: min(machine.stepIndex, machine.steps.count),
            reason: machine.rollback?.reason
        )
        var adopting: [InstanceID: SupervisorMachine.Phase] = [:]
        for (id, instance) in machine.instances { adopting[id] = Self.supervisionPhase(instance.phase) }
        mode = .steady(
            SupervisorMachine(
                policy: Self.supervision(spec, winner),
                firstInstanceNumber: machine.nextInstanceNumber,
                adopting: adopting
            )
        )
        var actions: [Action] = [.rolloutEnded(number: machine.plan.number)]
        actions += feedSupervisor(.begin, at: now)
        guard let waiting = pending else { return actions }
        let candidate = Release(version: waiting.request.version, env: waiting.request.env)
        guard candidate != stable else {
            pending = nil
            return actions + [
                dropped(waiting.number, waiting.request.version, "\(candidate.version) is already stable")
            ]
        }
        guard !waiting.request.variants.contains(where: { $0.version == stable.version }) else {
            pending = nil
            return actions + [dropped(waiting.number, waiting.request.version, "\(stable.version) is stable now")]
        }
        return actions + [.beginRollout(deployPlan(number: waiting.number, waiting.request))]
    }

    private func drop(_ plan: RolloutPlan, _ why: String) -> Action {
        dropped(plan.number, plan.candidate.version, why)
    }

    private func dropped(_ number: Int, _ version: String, _ why: String) -> Action {
        .record(
            Event(
                app: spec.name,
                kind: .commandRefused,
                fields: [
                    "command": "deploy",
                    "rollout": .int(number),
                    "version": .string(version),
                    "reason": .string("the deploy waiting for the superseded rollout did not begin: \(why)"),
                ]
            )
        )
    }

    // MARK: Phases across the hand-off

    static func supervision(_ spec: AppSpec, _ release: Release) -> SupervisorMachine.Policy {
        SupervisorMachine.Policy(
            app: spec.name,
            version: release.version,
            instances: spec.instances,
            backoff: CrashBackoff(initial: spec.restart.initialBackoff, maximum: spec.restart.maxBackoff),
            resetAfter: spec.restart.resetAfter
        )
    }

    static func rolloutPhase(_ phase: SupervisorMachine.Phase) -> RolloutMachine.InstancePhase {
        switch phase {
        case .launching: return .launching
        case .starting: return .starting
        case .healthy: return .ready
        case .unhealthy: return .unhealthy
        case .stopping: return .stopping
        }
    }

    static func supervisionPhase(_ phase: RolloutMachine.InstancePhase) -> SupervisorMachine.Phase {
        switch phase {
        case .launching: return .launching
        case .starting, .warming: return .starting
        case .ready: return .healthy
        case .unhealthy: return .unhealthy
        case .stopping: return .stopping
        }
    }

    mutating func markRecovered() {
        precondition(!recovered, "\(spec.name): the app was already brought up")
        recovered = true
    }

    mutating func setMode(_ mode: Mode) { self.mode = mode }
    mutating func setLastEnded(_ ended: EndedRollout) { lastEnded = ended }
    mutating func setPending(_ deploy: PendingDeploy?) { pending = deploy }
    mutating func reserveNumber() -> Int {
        lastNumber += 1
        return lastNumber
    }
}
