import SlipwayConfig
import SlipwayCore

/// One rollout of one app, from the stable release to a candidate, as a pure state machine.
///
/// Inputs are facts (an instance started, became healthy, exited; a metrics window; a timer; a user command);
/// outputs are ``Action``s for the executor: start and stop instances, warm them up, set the routes, schedule a
/// timer, record an event. Time comes in as a value; the machine performs no I/O.
///
/// Every strategy is compiled into ``RolloutStep``s (see ``RolloutPlan/compile()``) that end with the same finale:
/// the full candidate set, all traffic to it, promotion, then the old set drained and stopped. Every state has a
/// deadline: a step that does not finish within the strategy's `progressDeadline`, or a rollout still running after
/// `maxDuration`, is rolled back. Whatever the failure — a candidate that never becomes healthy or crashes, a failing
/// analysis, a fail-fast check, a deadline — the machine goes back to the stable release: traffic first, as soon as a
/// stable instance is ready, then the candidate is drained and stopped.
public struct RolloutMachine: Sendable {
    /// Which side of the rollout an instance is on.
    public enum Role: String, Sendable, Equatable {
        /// The release that was stable when the rollout began.
        case stable
        /// The release rolled out.
        case candidate
        /// Another variant of an A/B/n test than the candidate (``RolloutPlan/challengers``): it takes its share until
        /// a person chooses a variant, then it is stopped (or, if chosen, becomes the candidate).
        case challenger
    }

    /// Where one instance stands.
    public enum InstancePhase: String, Sendable, Equatable {
        /// Requested from the platform, not yet started.
        case launching
        /// Running, not yet healthy.
        case starting
        /// Healthy, being warmed up.
        case warming
        /// Healthy and warm: it takes traffic.
        case ready
        /// Failing its health check: out of the routes.
        case unhealthy
        /// Asked to stop.
        case stopping
    }

    /// How a rollout ended.
    public enum Outcome: String, Sendable, Equatable {
        /// The candidate is the app's stable release.
        case promoted
        /// The engine (or a user's `rollback`) went back to the stable release.
        case rolledBack
        /// A user aborted it.
        case aborted
        /// A newer deploy replaced it.
        case superseded
    }

    /// A fact the executor reports.
    public enum Input: Sendable, Equatable, InstanceFactInput {
        /// Start the rollout.
        case begin
        /// A fact about one instance.
        case instance(InstanceFact)
        /// The instance's warm-up is over.
        case warmedUp(InstanceID)
        /// Traffic per version over one window on the app's listener, on the preview listener when there is one, and
        /// of mirrored requests when a mirror runs: the copies' responses under the version they went to, the users'
        /// responses to the same requests under the version that served them.
        case metrics(MetricsWindow, preview: MetricsWindow?, mirror: MetricsWindow? = nil)
        /// The fault a chaos step asked for could not be put in force (chaos is stopped, the data plane refused it).
        case chaosFaultFailed(String)
        /// The hooks of a point ended: nil when every one succeeded, else why the first failure failed.
        case hooksFinished(HookPoint, failure: String?)
        /// A timer the machine scheduled has fired.
        case timerFired
        /// The host that runs `instances` cannot be reached: they are out of the routes, and the rollout holds
        /// (``RolloutMachine+Hosts``).
        case hostUnreachable(String, instances: Set<InstanceID>)
        /// The host can be reached again.
        case hostReachable(String)
    }

    /// Work for the executor.
    public enum Action: Sendable, Equatable {
        /// Start a new instance of `release`.
        case start(InstanceID, release: Release)
        /// Drain the instance (it is already out of the routes) and stop it.
        case stop(InstanceID, reason: String)
        /// Warm the instance up, then report ``Input/warmedUp(_:)``.
        case warmUp(InstanceID)
        /// Make the proxy obey this plan.
        case setRoutes(RoutePlan)
        /// Deliver ``Input/timerFired`` at this moment (an earlier pending timer stays).
        case scheduleTimer(at: Moment)
        /// Run the hooks of a point, in order, stopping at the first failure; for `preDeploy` and `prePromotion`,
        /// answer with ``Input/hooksFinished(_:failure:)``.
        case runHooks(HookPoint)
        /// Append the event to the log.
        case record(Event)
        /// Record the last lines of the instance's standard error (an `instanceLogTail` event): the rollout's verdict
        /// is final, and its report shows what the candidate's instances said.
        case recordStderrTail(InstanceID, version: String)
        /// Put this chaos step's fault in force in place of any earlier one of the rollout, or remove it (nil); answer
        /// ``Input/chaosFaultFailed(_:)`` when it cannot be put in force.
        case setChaosFault(ChaosStepFault?)
    }

    /// The answer to a user command.
    public struct CommandResult: Sendable, Equatable {
        /// Whether the command was carried out (or was already in effect).
        public var accepted: Bool
        /// What happened, or why not.
        public var message: String
        /// Work for the executor.
        public var actions: [Action]
    }

    struct Member: Sendable, Equatable {
        var role: Role
        var phase: InstancePhase
        var release: Release
        var startedAt: Moment?
        var warmed: Bool
    }

    enum Weighting: Equatable {
        /// The candidate's share is fixed (basis points).
        case fixed(Int)
        /// Each ready instance gets an equal share, whatever its version.
        case proportional
    }

    /// The plan (an A/B/n test's choice of a variant makes that variant its candidate).
    public internal(set) var plan: RolloutPlan
    /// The compiled steps.
    public let steps: [RolloutStep]
    /// The index where the finale begins (`promote --full` jumps there).
    public let finale: Int
    /// The step in progress (``steps``.count once every step is done).
    public private(set) var stepIndex = 0
    /// Whether a user paused the rollout.
    public private(set) var pausedByUser = false
    /// Set once the machine goes back to stable: how it will end, and why.
    public private(set) var rollback: (outcome: Outcome, reason: String)?
    /// Set once the rollout has ended.
    public private(set) var outcome: Outcome?
    /// Why the rollout waits, when it waits on something other than the clock (for status views).
    public internal(set) var waitingFor: String?

    var members: [InstanceID: Member] = [:]
    private(set) var nextNumber: Int
    private(set) var startedAt: Moment = .zero
    private var stepStartedAt: Moment = .zero
    var stepDeadline: Moment?
    var pauseEnds: Moment?
    private var userPausedAt: Moment?
    private var rollbackStartedAt: Moment?
    var analysisRun: AnalysisRun?
    /// The candidate against the stable version since it first took traffic (with `analysis.compare`).
    public internal(set) var comparison: BaselineComparison?
    /// The candidate's answers to mirrored requests against the users' answers, during a mirror step (with
    /// `analysis.compare`).
    public internal(set) var mirrorComparison: BaselineComparison?
    /// The A/B experiment of an `abTest` rollout, from its step on.
    public internal(set) var experiment: Experiment?
    /// What a restored rollout's experiment had counted before the restart, until its step takes it up.
    var restoredExperiment: Experiment.Checkpoint?
    /// When the experiment's counts were last recorded.
    var experimentRecordedAt: Moment?
    var stepDone = false
    /// The chaos step in progress, and the fault last asked for.
    var chaosRun: ChaosRun?
    public internal(set) var publishedChaosFault: ChaosStepFault?
    private var stableTarget: Int
    private var candidateTarget = 0
    private var challengerTarget = 0
    /// Whether a person chose the variant an A/B/n test keeps (until then, `promote` must name one).
    public internal(set) var variantChosen = false
    private var weighting: Weighting
    private var previewOpen = false
    private var lastRoutes: RoutePlan?
    private var lastPercentages: [String: Double]?
    private var lastTimer: Moment?
    private var stableFailures = 0
    private var replacementHold: Moment?
    private var queuedStops: [Action] = []
    private var restored = false
    /// The hosts that cannot be reached, by name: since when, and the instances they run.
    var unreachableHosts: [String: UnreachableHost] = [:]

    /// A rollout about to begin, taking over the app's current instances (all of the stable release).
    ///
    /// - Parameters:
    ///   - current: the instances running now, with their phase (`ready` for healthy ones).
    ///   - firstInstanceNumber: the number of the next instance to start (numbers never repeat within an app).
    public init(plan: RolloutPlan, current: [InstanceID: InstancePhase], firstInstanceNumber: Int) {
        self.plan = plan
        (self.steps, self.finale) = plan.compile()
        self.nextNumber = firstInstanceNumber
        self.stableTarget = plan.instances
        self.weighting = Self.initialWeighting(plan)
        for (id, phase) in current {
            members[id] = Member(role: .stable, phase: phase, release: plan.stable, startedAt: nil, warmed: true)
        }
    }

    /// A rollout rebuilt from the event log after a controller restart: it carries on at `step` with the instances
    /// still alive (each with its role, and a challenger's version in `challengerVersions`), which are health-checked
    /// again before they take traffic.
    public init(
        restoring plan: RolloutPlan,
        step: Int,
        pausedByUser: Bool,
        rollback: (outcome: Outcome, reason: String)?,
        alive: [InstanceID: Role],
        challengerVersions: [InstanceID: String] = [:],
        firstInstanceNumber: Int,
        startedAt: Moment,
        experiment: Experiment.Checkpoint? = nil,
        variantChosen: Bool = false
    ) {
        self.init(plan: plan, current: [:], firstInstanceNumber: firstInstanceNumber)
        self.restoredExperiment = experiment
        self.variantChosen = variantChosen
        self.stepIndex = min(max(0, step), steps.count)
        self.pausedByUser = pausedByUser
        self.rollback = rollback
        self.restored = true
        self.startedAt = startedAt
        for (id, role) in alive {
            let release: Release
            switch role {
            case .stable: release = plan.stable
            case .candidate: release = plan.candidate
            case .challenger:
                // Recovery names a challenger only by a version among the plan's challengers.
                let version = challengerVersions[id] ?? ""
                release = plan.challengers.first { $0.version == version } ?? Release(version: version)
            }
            members[id] = Member(role: role, phase: .launching, release: release, startedAt: nil, warmed: true)
        }
        // The targets the finished steps had set.
        for earlier in steps[..<stepIndex] { applyTargets(of: earlier) }
    }

    // MARK: Reading

    /// The phase and role of every instance the machine knows, by id.
    public var instances: [InstanceID: (role: Role, phase: InstancePhase, version: String)] {
        members.mapValues { ($0.role, $0.phase, $0.release.version) }
    }

    /// The next instance number (for the supervision that takes over when the rollout ends).
    public var nextInstanceNumber: Int { nextNumber }

    /// The step in progress, nil once every step is done.
    public var currentStep: RolloutStep? { stepIndex < steps.count ? steps[stepIndex] : nil }

    /// The release running when the rollout has ended (or would, if it ended now by going back).
    public var winner: Release {
        outcome == .promoted || (outcome == nil && rollback == nil && stepIndex > promotedIndex)
            ? plan.candidate : plan.stable
    }

    /// The PromQL queries the next window needs answered: about the candidate, those of the fail-fast checks while it
    /// is judged and those of the analysis step in progress; about every variant, the query goals of a running
    /// experiment. The executor asks the metric source and puts the answers in the window.
    public var queries: [QueryRequest] {
        guard outcome == nil, rollback == nil, plan.judgesCandidate else { return [] }
        var checks = analysisRun?.checks ?? []
        if onTrial { checks += plan.analysis.failFast }
        var requests = checks.compactMap(\.query).map { QueryRequest($0, version: plan.candidate.version) }
        if let experiment, experiment.conclusion == nil {
            for goal in experiment.spec.goals {
                guard case .query(let query) = goal.metric else { continue }
                requests += experiment.variants.map { QueryRequest(query, version: $0.version) }
            }
        }
        var seen = Set<QueryRequest>()
        return requests.filter { seen.insert($0).inserted }
    }

    /// The routes in force.
    public var routes: RoutePlan { lastRoutes ?? RoutePlan(groups: []) }

    /// `running`, `paused`, `rollingBack` or the outcome.
    public var stateName: String {
        if let outcome { return outcome.rawValue }
        if rollback != nil { return "rollingBack" }
        if pausedByUser || !unreachableHosts.isEmpty { return "paused" }
        if case .pause(nil) = currentStep { return "paused" }
        return "running"
    }

    private var promotedIndex: Int { steps.firstIndex(of: .promoted) ?? steps.count }

    /// Whether the candidate is still being judged: before promotion, and while the old set is kept warm.
    private var onTrial: Bool {
        if stepIndex <= promotedIndex { return true }
        if case .keepOldSet = currentStep { return true }
        return false
    }

    private static func initialWeighting(_ plan: RolloutPlan) -> Weighting {
        switch plan.purpose {
        case .restart: return .proportional
        case .rollback: return .fixed(0)
        case .deploy:
            switch plan.strategy.kind {
            case .recreate, .rolling: return .proportional
            case .blueGreen, .canary, .abTest: return .fixed(0)
            }
        }
    }

    // MARK: Inputs

    /// Feeds one input at `now` and returns what to do, in order.
    public mutating func handle(_ input: Input, at now: Moment) -> [Action] {
        var actions: [Action] = []
        switch input {
        case .begin:
            startedAt = restored ? startedAt : now
            actions.append(restored ? record(.rolloutResumed, ["restored": true]) : startedEvent())
            enterStep(at: now, into: &actions)
        case .instance(.started(let id)):
            guard var member = members[id], member.phase == .launching else { return [] }
            member.phase = .starting
            member.startedAt = now
            members[id] = member
        case .instance(.startFailed(let id, let reason)):
            guard let member = members.removeValue(forKey: id) else { return [] }
            instanceFailed(id, member, reason: "could not start: \(reason)", at: now, into: &actions)
        case .instance(.healthy(let id)):
            guard var member = members[id], [.starting, .unhealthy, .launching].contains(member.phase) else {
                return []
            }
            if member.warmed || !plan.warmUp {
                member.phase = .ready
                member.warmed = true
            } else {
                member.phase = .warming
                actions.append(.warmUp(id))
            }
            members[id] = member
        case .instance(.unhealthy(let id)):
            guard var member = members[id], member.phase == .ready || member.phase == .warming else { return [] }
            member.phase = .unhealthy
            members[id] = member
        case .warmedUp(let id):
            guard var member = members[id], member.phase == .warming else { return [] }
            member.phase = .ready
            member.warmed = true
            members[id] = member
        case .instance(.failedToStart(let id, let reason)), .instance(.stayedUnhealthy(let id, let reason)):
            guard let member = members[id], member.phase != .stopping else { return [] }
            stopInstance(id, reason: reason, into: &actions)
            instanceFailed(id, member, reason: reason, at: now, into: &actions)
        case .instance(.exited(let id, let status)):
            guard let member = members.removeValue(forKey: id) else { return [] }
            if member.phase != .stopping {
                let when = member.phase == .launching || member.phase == .starting ? " while starting" : ""
                instanceFailed(id, member, reason: "exited with \(status)\(when)", at: now, into: &actions)
            }
        case .metrics(let window, let preview, let mirror):
            judge(window, preview: preview, at: now, into: &actions)
            if case .mirror = currentStep { judgeMirror(mirror, at: now, into: &actions) }
            if case .chaos = currentStep { judgeChaos(window, at: now, into: &actions) }
        case .chaosFaultFailed(let reason):
            guard outcome == nil, rollback == nil, case .chaos = currentStep, !stepDone else { return [] }
            startRollback(
                .rolledBack,
                reason: "the chaos step could not put its fault in force: \(reason)",
                evidence: ["step": .int(stepIndex), "failure": .string(reason)],
                at: now,
                into: &actions
            )
        case .hooksFinished(let point, let failure):
            guard outcome == nil, rollback == nil, case .hooks(point, _) = currentStep, !stepDone else { return [] }
            if let failure {
                startRollback(
                    .rolledBack,
                    reason: "\(point.rawValue) hook failed: \(failure)",
                    evidence: ["hookPoint": .string(point.rawValue), "failure": .string(failure)],
                    at: now,
                    into: &actions
                )
            } else {
                stepDone = true
            }
        case .timerFired:
            // Whatever timer fired, the next one is asked for again.
            lastTimer = nil
            checkDeadlines(at: now, into: &actions)
        case .hostUnreachable(let host, let instances):
            hostLost(host, instances: instances, at: now, into: &actions)
        case .hostReachable(let host):
            hostBack(host, at: now, into: &actions)
        }
        advance(at: now, into: &actions)
        return actions
    }

    // MARK: Commands

    /// Applies a user command at `now`.
    public mutating func command(_ command: UserCommand, by user: String, at now: Moment) -> CommandResult {
        var actions: [Action] = []
        let who = user.isEmpty ? "a user" : user
        func accept(_ message: String) -> CommandResult {
            advance(at: now, into: &actions)
            return CommandResult(accepted: true, message: message, actions: actions)
        }
        func refuse(_ message: String) -> CommandResult {
            CommandResult(accepted: false, message: message, actions: [])
        }
        if let outcome {
            switch (command, outcome) {
            case (.promote, .promoted): return accept("rollout #\(plan.number) is already promoted")
            case (.choose(let variant), .promoted) where self.variant(named: variant)?.release == plan.candidate:
                return accept("rollout #\(plan.number) already promoted \(plan.candidate.version)")
            case (.abort, .aborted), (.abort, .rolledBack), (.abort, .superseded):
                return accept("rollout #\(plan.number) already ended: \(outcome.rawValue)")
            default:
                return refuse("rollout #\(plan.number) already ended: \(outcome.rawValue)")
            }
        }
        if let rollback {
            switch command {
            case .abort, .rollback(nil):
                return accept("rollout #\(plan.number) is already going back to \(plan.stable.version)")
            default:
                return refuse(
                    "rollout #\(plan.number) is going back to \(plan.stable.version) (\(rollback.reason)); "
                        + "`retry` starts it again once it has ended"
                )
            }
        }
        switch command {
        case .choose(let variant):
            return chooseVariant(variant, by: who, at: now)
        case .promote(let full):
            if let unchosen = unchosenVariantsRefusal(full: full) { return refuse(unchosen) }
            if case .hooks(let point, let names) = currentStep {
                return refuse(
                    "rollout #\(plan.number) waits for its \(point.rawValue) hooks (\(names.joined(separator: ", "))); "
                        + "they are never skipped"
                )
            }
            if full {
                guard stepIndex < finale else { return accept("rollout #\(plan.number) is already being promoted") }
                endExperiment("\(who) promoted \(plan.candidate.version)", at: now, into: &actions)
                actions.append(record(.rolloutResumed, ["by": .string(who), "command": "promote --full"]))
                clearUserPause(at: now)
                stepIndex = finale
                enterStep(at: now, into: &actions)
                return accept("skipping to promotion")
            }
            guard let step = currentStep else { return accept("rollout #\(plan.number) is being promoted") }
            switch step {
            case .pause, .analysis, .keepOldSet, .experiment, .mirror, .chaos:
                if pausedByUser { clearUserPause(at: now) }
                endExperiment("\(who) promoted \(plan.candidate.version)", at: now, into: &actions)
                actions.append(
                    record(
                        .rolloutResumed,
                        ["by": .string(who), "command": "promote", "skipped": .string(step.description)]
                    )
                )
                stepDone = true
                return accept("step \(stepIndex + 1) (\(step.description)) ended by promote")
            default:
                if pausedByUser {
                    clearUserPause(at: now)
                    actions.append(record(.rolloutResumed, ["by": .string(who), "command": "promote"]))
                    return accept("resumed; step \(stepIndex + 1) (\(step.description)) goes on")
                }
                return refuse(
                    "step \(stepIndex + 1) (\(step.description)) goes on by itself"
                        + (waitingFor.map { " once \($0)" } ?? "") + "; nothing to skip"
                )
            }
        case .abort:
            startRollback(.aborted, reason: "aborted by \(who)", evidence: [:], at: now, into: &actions)
            return accept("aborting: all traffic back to \(plan.stable.version)")
        case .rollback(let version):
            if let version, version != plan.stable.version {
                return refuse(
                    "rollout #\(plan.number) is running: it can only go back to \(plan.stable.version), not \(version)"
                )
            }
            startRollback(.rolledBack, reason: "rolled back by \(who)", evidence: [:], at: now, into: &actions)
            return accept("rolling back to \(plan.stable.version)")
        case .pause:
            if pausedByUser { return accept("rollout #\(plan.number) is already paused") }
            pausedByUser = true
            userPausedAt = now
            actions.append(record(.rolloutPaused, ["by": .string(who), "step": .int(stepIndex)]))
            return accept("paused at step \(stepIndex + 1)")
        case .resume:
            if pausedByUser {
                clearUserPause(at: now)
                actions.append(record(.rolloutResumed, ["by": .string(who)]))
                return accept("resumed at step \(stepIndex + 1)")
            }
            if case .pause(nil) = currentStep {
                stepDone = true
                actions.append(record(.rolloutResumed, ["by": .string(who), "command": "resume"]))
                return accept("step \(stepIndex + 1) (pause until promote) ended by resume")
            }
            return accept("rollout #\(plan.number) is not paused")
        case .retry:
            return refuse("rollout #\(plan.number) is still running; `retry` starts an ended rollout again")
        }
    }

    /// Ends the rollout because a newer deploy replaces it: back to stable first.
    public mutating func supersede(by version: String, at now: Moment) -> [Action] {
        guard outcome == nil else { return [] }
        var actions: [Action] = []
        if rollback == nil {
            startRollback(
                .superseded,
                reason: "superseded by a deploy of \(version)",
                evidence: [:],
                at: now,
                into: &actions
            )
        }
        advance(at: now, into: &actions)
        return actions
    }

    mutating func clearUserPause(at now: Moment) {
        guard pausedByUser else { return }
        pausedByUser = false
        if let pausedAt = userPausedAt {
            let held = now - pausedAt
            stepDeadline = stepDeadline.map { $0 + held }
            pauseEnds = pauseEnds.map { $0 + held }
        }
        userPausedAt = nil
    }

    // MARK: Steps

    private mutating func enterStep(at now: Moment, into actions: inout [Action]) {
        stepStartedAt = now
        stepDone = false
        analysisRun = nil
        pauseEnds = nil
        chaosRun = nil
        guard let step = currentStep else { return }
        applyTargets(of: step)
        switch step {
        case .pause(let duration):
            stepDeadline = nil
            pauseEnds = duration.map { now + $0 }
        case .analysis(let spec, _):
            stepDeadline = now + plan.strategy.progressDeadline
            analysisRun = AnalysisRun(step: spec, analysis: plan.analysis, version: plan.candidate.version)
        case .keepOldSet(let delay, let spec):
            stepDeadline = nil
            pauseEnds = now + delay
            analysisRun = spec.map { AnalysisRun(step: $0, analysis: plan.analysis, version: plan.candidate.version) }
        case .experiment(let spec):
            stepDeadline = nil
            startExperiment(spec, at: now, into: &actions)
        case .mirror(let spec):
            startMirror(spec, at: now)
        case .chaos(let spec):
            startChaos(spec, at: now, into: &actions)
        case .hooks(let point, _):
            // Every hook has its own timeout (a gate, its deadline); `maxDuration` still bounds the whole rollout.
            stepDeadline = nil
            actions.append(.runHooks(point))
        default:
            stepDeadline = now + plan.strategy.progressDeadline
        }
        var fields: [String: JSONValue] = [
            "step": .int(stepIndex),
            "steps": .int(steps.count),
            "description": .string(step.description),
        ]
        if restored { fields["restored"] = true }
        actions.append(record(.rolloutStepStarted, fields))
    }

    private mutating func applyTargets(of step: RolloutStep) {
        switch step {
        case .scaleCandidate(let count): candidateTarget = count
        case .scaleChallengers(let count): challengerTarget = count
        case .scaleStable(let count): stableTarget = count
        case .weight(let basisPoints): weighting = .fixed(basisPoints)
        case .openPreview: previewOpen = true
        default: break
        }
    }

    /// Whether the current step has done its work.
    private mutating func stepFinished(at now: Moment) -> Bool {
        guard let step = currentStep else { return false }
        let stable = count(.stable)
        let candidate = count(.candidate)
        switch step {
        case .scaleCandidate(let target):
            waitingFor = "\(candidate.ready) of \(target) candidate instances are ready"
            return candidate.ready >= target
        case .scaleChallengers(let target):
            guard target > 0 else {
                waitingFor = nil
                return true
            }
            let ready = plan.challengers.map { challenger in
                members.values.filter { $0.role == .challenger && $0.release == challenger && $0.phase == .ready }.count
            }
            let short = zip(plan.challengers, ready).filter { $0.1 < target }
            waitingFor =
                short.isEmpty
                ? nil
                : short.map { "\($0.1) of \(target) instances of \($0.0.version) are ready" }.joined(separator: ", ")
            return short.isEmpty
        case .scaleStable(let target):
            waitingFor =
                stable.alive > target
                ? "\(stable.alive - target) stable instances to drain and stop"
                : "\(stable.ready) of \(target) stable instances are ready"
            return stable.alive == target && stable.ready >= target
        case .weight, .openPreview:
            waitingFor = nil
            return true
        case .promoted:
            waitingFor = nil
            return true
        case .pause(let duration):
            waitingFor = duration == nil ? "promote or resume" : nil
            if stepDone { return true }
            guard let pauseEnds else { return false }
            return now >= pauseEnds
        case .analysis:
            if let run = analysisRun {
                waitingFor = "analysis: \(run.passes) of \(run.step.windows) windows passed"
            }
            return stepDone
        case .experiment:
            waitingFor = stepDone ? nil : experimentWaitingFor(at: now)
            return stepDone
        case .mirror:
            return mirrorFinished(at: now)
        case .chaos:
            return chaosFinished(at: now)
        case .hooks(let point, let names):
            waitingFor = stepDone ? nil : "\(point.rawValue) hooks (\(names.joined(separator: ", ")))"
            return stepDone
        case .keepOldSet:
            if stepDone { return true }
            let analysisDone = analysisRun.map { $0.passes >= $0.step.windows } ?? true
            waitingFor = analysisDone ? nil : "post-promotion analysis"
            return analysisDone && (pauseEnds.map { now >= $0 } ?? true)
        }
    }

    /// Moves through every step that can finish now, keeps the fleet at its targets, and publishes routes and timers.
    mutating func advance(at now: Moment, into actions: inout [Action]) {
        defer {
            updateRoutes(into: &actions)
            updateChaosFault(at: now, into: &actions)
            actions += queuedStops
            queuedStops.removeAll()
            scheduleNextTimer(at: now, into: &actions)
        }
        guard outcome == nil else { return }
        // Whatever came in: a host lost past its deadline sends the rollout back now, not only when a timer says so.
        if rollback == nil, !unreachableHosts.isEmpty { _ = checkHostDeadlines(at: now, into: &actions) }
        if rollback != nil {
            progressRollback(at: now, into: &actions)
        } else {
            var rounds = 0
            while rounds <= steps.count + 1 {
                rounds += 1
                reconcile(at: now, into: &actions)
                if pausedByUser || currentStep == nil { break }
                if !unreachableHosts.isEmpty {
                    waitingFor = hostsWaitingFor(at: now)
                    break
                }
                guard stepFinished(at: now) else { break }
                if currentStep == .promoted {
                    actions.append(
                        record(
                            .rolloutPromoted,
                            ["from": .string(plan.stable.version), "to": .string(plan.candidate.version)]
                        )
                    )
                    if plan.purpose == .deploy, plan.hooks[.postPromotion] != nil {
                        actions.append(.runHooks(.postPromotion))
                    }
                }
                stepIndex += 1
                enterStep(at: now, into: &actions)
            }
            if currentStep == nil {
                finish(.promoted, reason: nil, at: now, into: &actions)
            }
        }
    }

    // MARK: Fleet

    private struct Count {
        var ready = 0
        /// Not stopping.
        var active = 0
        /// Not yet exited, stopping ones included.
        var alive = 0
    }

    private func count(_ role: Role) -> Count {
        var result = Count()
        let cutOff = goingBackWithoutCutOff ? self.cutOff : []
        for (id, member) in members where member.role == role && !cutOff.contains(id) {
            result.alive += 1
            if member.phase != .stopping { result.active += 1 }
            if member.phase == .ready { result.ready += 1 }
        }
        return result
    }

    /// Starts what is missing and stops what is surplus, for every role (and every variant of an A/B/n test).
    private mutating func reconcile(at now: Moment, into actions: inout [Action]) {
        reconcile(.stable, plan.stable, at: now, into: &actions)
        reconcile(.candidate, plan.candidate, at: now, into: &actions)
        for challenger in plan.challengers { reconcile(.challenger, challenger, at: now, into: &actions) }
    }

    /// Starts what is missing and stops what is surplus of one role's release.
    private mutating func reconcile(_ role: Role, _ release: Release, at now: Moment, into actions: inout [Action]) {
        let target: Int
        switch role {
        case .stable: target = stableTarget
        case .candidate: target = candidateTarget
        case .challenger: target = challengerTarget
        }
        let cutOff = goingBackWithoutCutOff ? self.cutOff : []
        let active = members.filter {
            $0.value.role == role && $0.value.phase != .stopping && (role != .challenger || $0.value.release == release)
                && !cutOff.contains($0.key)
        }
        if active.count < target {
            if role == .stable, let hold = replacementHold, now < hold { return }
            for _ in 0..<(target - active.count) { startInstance(role, release, into: &actions) }
        } else if active.count > target {
            // Not-yet-ready instances go first, then the oldest.
            let order: [InstancePhase] = [.launching, .starting, .unhealthy, .warming, .ready]
            let surplus = active.sorted { lhs, rhs in
                let left = order.firstIndex(of: lhs.value.phase)!
                let right = order.firstIndex(of: rhs.value.phase)!
                return left != right ? left < right : lhs.key < rhs.key
            }.prefix(active.count - target)
            for (id, _) in surplus {
                let reason: String
                switch role {
                case .stable: reason = "replaced by \(plan.candidate.version)"
                case .candidate: reason = "scaled down"
                case .challenger: reason = "\(plan.candidate.version) was chosen"
                }
                stopInstance(id, reason: rollback != nil ? "rolling back" : reason, into: &actions)
            }
        }
    }

    private mutating func startInstance(_ role: Role, _ release: Release, into actions: inout [Action]) {
        let id = InstanceID(app: plan.app, number: nextNumber)
        nextNumber += 1
        members[id] = Member(role: role, phase: .launching, release: release, startedAt: nil, warmed: false)
        actions.append(.start(id, release: release))
    }

    /// Marks the instance stopping; its stop goes out after the routes that no longer name it.
    private mutating func stopInstance(_ id: InstanceID, reason: String, into actions: inout [Action]) {
        guard var member = members[id], member.phase != .stopping else { return }
        member.phase = .stopping
        members[id] = member
        actions.append(record(.instanceStopping, id, ["reason": .string(reason)]))
        queuedStops.append(.stop(id, reason: reason))
    }

    /// An instance failed: a candidate failing before promotion rolls the rollout back; anything else is replaced.
    private mutating func instanceFailed(
        _ id: InstanceID,
        _ member: Member,
        reason: String,
        at now: Moment,
        into actions: inout [Action]
    ) {
        let candidateOnTrial = member.role != .stable && onTrial && plan.purpose != .rollback
        if candidateOnTrial, rollback == nil, outcome == nil {
            let ranFor = member.startedAt.map { now - $0 } ?? .zero
            let side = member.role == .candidate ? "candidate" : "variant \(member.release.version)"
            startRollback(
                .rolledBack,
                reason: "\(side) instance \(id) failed: \(reason)",
                evidence: [
                    "instance": .string(id.rawValue),
                    "failure": .string(reason),
                    "ranForMs": .int(Int(ranFor.milliseconds)),
                ],
                at: now,
                into: &actions
            )
            return
        }
        guard member.role == .stable || !candidateOnTrial else { return }
        let ranFor = member.startedAt.map { now - $0 } ?? .zero
        if ranFor >= .seconds(60) { stableFailures = 0 }
        stableFailures += 1
        let delay = plan.backoff.delay(afterFailures: stableFailures)
        if delay > .zero {
            replacementHold = max(replacementHold ?? now + delay, now + delay)
            actions.append(
                record(
                    .crashLoopBackoff,
                    id,
                    [
                        "failures": .int(stableFailures),
                        "delay": .string(DurationText.format(delay)),
                        "delayMs": .int(Int(delay.milliseconds)),
                        "reason": .string(reason),
                    ]
                )
            )
        }
    }

    // MARK: Going back

    mutating func startRollback(
        _ outcome: Outcome,
        reason: String,
        evidence: [String: JSONValue],
        at now: Moment,
        into actions: inout [Action]
    ) {
        guard rollback == nil, self.outcome == nil else { return }
        endExperiment(reason, at: now, into: &actions)
        rollback = (outcome, reason)
        rollbackStartedAt = now
        pausedByUser = false
        analysisRun = nil
        stableTarget = plan.instances
        var fields = evidence
        fields["reason"] = .string(reason)
        fields["outcome"] = .string(outcome.rawValue)
        fields["step"] = .int(stepIndex)
        fields["to"] = .string(plan.stable.version)
        actions.append(record(.rolloutRollingBack, fields))
        recordStderrTails(of: { $0.role != .stable }, into: &actions)
    }

    /// Asks for the standard error of every instance `selected` that has been started, before any of them stops.
    private func recordStderrTails(of selected: (Member) -> Bool, into actions: inout [Action]) {
        for (id, member) in members.sorted(by: { $0.key < $1.key })
        where selected(member) && member.phase != .launching {
            actions.append(.recordStderrTail(id, version: member.release.version))
        }
    }

    private mutating func progressRollback(at now: Moment, into actions: inout [Action]) {
        guard let rollback else { return }
        let deadline = (rollbackStartedAt ?? now) + plan.strategy.progressDeadline
        let stable = count(.stable)
        // Ready candidates keep running until stable is whole (they serve only while no stable instance is ready), and
        // stop at the deadline whatever happens; candidates not ready stop at once. None is ever started again.
        candidateTarget = 0
        challengerTarget = 0
        for (id, member) in members.sorted(by: { $0.key < $1.key })
        where member.role != .stable && member.phase != .stopping {
            if member.phase != .ready || stable.ready >= plan.instances || now >= deadline {
                stopInstance(id, reason: "rolling back", into: &actions)
            }
        }
        reconcile(.stable, plan.stable, at: now, into: &actions)
        let candidateLeft = count(.candidate).alive + count(.challenger).alive
        if candidateLeft == 0, stable.ready >= plan.instances {
            finish(rollback.outcome, reason: rollback.reason, at: now, into: &actions)
        } else if now >= deadline, candidateLeft == 0 {
            finish(
                rollback.outcome,
                reason:
                    "\(rollback.reason); \(stable.ready) of \(plan.instances) stable instances ready at the deadline",
                at: now,
                into: &actions
            )
        } else {
            waitingFor =
                candidateLeft > 0
                ? "\(candidateLeft) candidate instances to drain and stop"
                : "\(stable.ready) of \(plan.instances) stable instances are ready"
        }
    }

    private mutating func finish(_ outcome: Outcome, reason: String?, at now: Moment, into actions: inout [Action]) {
        self.outcome = outcome
        waitingFor = nil
        var fields: [String: JSONValue] = [
            "outcome": .string(outcome.rawValue),
            "stable": .string(outcome == .promoted ? plan.candidate.version : plan.stable.version),
            "from": .string(plan.stable.version),
            "to": .string(plan.candidate.version),
            "durationMs": .int(Int((now - startedAt).milliseconds)),
            "steps": .int(min(stepIndex, steps.count)),
        ]
        if let reason { fields["reason"] = .string(reason) }
        if outcome == .promoted, rollback == nil {
            let version = plan.candidate.version
            recordStderrTails(of: { $0.release.version == version && $0.phase != .stopping }, into: &actions)
        }
        actions.append(record(.rolloutFinished, fields))
        if plan.hooks[.onRollback] != nil, wentBack(outcome) {
            actions.append(.runHooks(.onRollback))
        }
    }

    /// Whether a rollout that ended with `outcome` took the app back to an earlier release: a manual rollback that
    /// finished, or a rollout that went back after it had changed something (not one stopped by its `preDeploy`
    /// hooks, before any candidate started).
    private func wentBack(_ outcome: Outcome) -> Bool {
        if plan.purpose == .rollback { return outcome == .promoted }
        guard outcome != .promoted, plan.purpose == .deploy else { return false }
        if stepIndex < steps.count, case .hooks(.preDeploy, _) = steps[stepIndex] { return false }
        return true
    }

    // MARK: Analysis

    private mutating func judge(
        _ window: MetricsWindow,
        preview: MetricsWindow?,
        at now: Moment,
        into actions: inout [Action]
    ) {
        guard outcome == nil, rollback == nil, plan.judgesCandidate else { return }
        let candidateRouted =
            routes.groups.contains { $0.version == plan.candidate.version && $0.weight > 0 }
            || (routes.ruleVersion == plan.candidate.version && !routes.rules.isEmpty)
        // Every window goes in: before the candidate takes traffic, a latency comparison learns the stable version's
        // p99 from it.
        if onTrial, !plan.analysis.compare.isEmpty {
            var comparison =
                self.comparison
                ?? BaselineComparison(
                    checks: plan.analysis.compare,
                    alpha: plan.analysis.alpha,
                    candidate: plan.candidate.version,
                    baseline: plan.stable.version,
                    notes: routingNotes
                )
            comparison.observe(window)
            self.comparison = comparison
            if !comparison.harmful.isEmpty {
                return rollBack(
                    harmFoundBy: comparison,
                    analysis: "compare",
                    reason: "the comparison with \(plan.stable.version) found harm",
                    at: now,
                    into: &actions
                )
            }
        }
        if candidateRouted, !plan.analysis.failFast.isEmpty, onTrial {
            let judgement = WindowJudgement(
                checks: plan.analysis.failFast,
                minRequests: plan.analysis.minRequests,
                version: plan.candidate.version,
                window: window
            )
            if judgement.verdict == .fail {
                var fields = judgement.fields
                fields["analysis"] = "failFast"
                fields["step"] = .int(stepIndex)
                if let admission = window.admission, !admission.isQuiet { fields["waitingRoom"] = admission.fields }
                actions.append(record(.analysisJudged, fields))
                startRollback(
                    .rolledBack,
                    reason: "fail-fast check failed: \(judgement.failing.map(\.check.text).joined(separator: ", "))",
                    evidence: judgement.fields,
                    at: now,
                    into: &actions
                )
                return
            }
        }
        if case .experiment = currentStep, !stepDone { observeExperiment(window, at: now, into: &actions) }
        if case .mirror = currentStep { return }
        guard !pausedByUser, var run = analysisRun, !stepDone else { return }
        var source = window
        var onPreview = false
        if case .analysis(_, preview: true) = currentStep, let preview {
            source = preview
            onPreview = true
        }
        let (judgement, progress) = run.judge(source)
        analysisRun = run
        var fields = judgement.fields
        fields["analysis"] = .string(currentStep?.description ?? "analysis")
        fields["step"] = .int(stepIndex)
        for (key, value) in run.tally { fields[key] = value }
        // The main listener's waiting room, app-wide: evidence beside the judgement, charged to no version.
        if !onPreview, let admission = window.admission, !admission.isQuiet { fields["waitingRoom"] = admission.fields }
        // The preview listener has no baseline beside the candidate: only the main listener's steps wait for the
        // comparisons.
        let compared = onPreview || plan.analysis.compare.isEmpty || comparison?.passes == true
        if let comparison, !onPreview { Self.add(comparison, to: &fields, beside: judgement) }
        actions.append(record(.analysisJudged, fields))
        switch progress {
        case .running:
            break
        case .passed:
            if case .analysis = currentStep, compared { stepDone = true }
        case .failed:
            startRollback(
                .rolledBack,
                reason:
                    "analysis failed at step \(stepIndex + 1): \(judgement.failing.map(\.check.text).joined(separator: ", "))",
                evidence: judgement.fields.merging(run.tally) { first, _ in first },
                at: now,
                into: &actions
            )
        }
    }

    /// Records a comparison's harm as a failed judgement (`analysis`, with `extra` fields) and goes back to the
    /// stable release, saying `reason` and the harmful comparisons.
    mutating func rollBack(
        harmFoundBy comparison: BaselineComparison,
        analysis: String,
        extra: [String: JSONValue] = [:],
        reason: String,
        at now: Moment,
        into actions: inout [Action]
    ) {
        let harmful = comparison.harmful
        var fields: [String: JSONValue] = [
            "analysis": .string(analysis),
            "step": .int(stepIndex),
            "verdict": "fail",
            "version": .string(plan.candidate.version),
            "baseline": .string(plan.stable.version),
            "comparisons": comparison.fields,
            "summary": .string(harmful.map(BaselineComparison.summary).joined(separator: "; ")),
        ]
        for (key, value) in extra { fields[key] = value }
        actions.append(record(.analysisJudged, fields))
        startRollback(
            .rolledBack,
            reason: "\(reason): " + harmful.map(\.check.text).joined(separator: ", "),
            evidence: fields,
            at: now,
            into: &actions
        )
    }

    /// Adds the comparisons' evidence to a judged window's fields, their summaries after the judgement's.
    static func add(
        _ comparison: BaselineComparison,
        to fields: inout [String: JSONValue],
        beside judgement: WindowJudgement
    ) {
        fields["comparisons"] = comparison.fields
        let summaries = comparison.entries.map(BaselineComparison.summary).joined(separator: "; ")
        fields["summary"] = .string(judgement.summary.isEmpty ? summaries : "\(judgement.summary); \(summaries)")
    }

    /// What the comparisons' evidence assumes that this rollout's routing does not give.
    var routingNotes: [String] {
        guard let routing = plan.strategy.routing else { return [] }
        var notes: [String] = []
        if routing.stickiness != nil {
            notes.append(
                "sticky traffic: errorRate is judged per user (the first request of each user new since the candidate "
                    + "took traffic); the other comparisons count every request, and a user's requests are not "
                    + "independent, so their evidence is overstated"
            )
        }
        if !routing.match.isEmpty {
            notes.append(
                "match rules: the requests a rule sends are left out of errorRate; the other comparisons count them, "
                    + "and they are chosen by their content, so the versions do not see the same traffic"
            )
        }
        return notes
    }

    // MARK: Deadlines

    private mutating func checkDeadlines(at now: Moment, into actions: inout [Action]) {
        guard outcome == nil, rollback == nil else { return }
        if checkHostDeadlines(at: now, into: &actions) { return }
        if now >= startedAt + plan.strategy.maxDuration {
            startRollback(
                .rolledBack,
                reason:
                    "the rollout did not finish within maxDuration \(DurationText.format(plan.strategy.maxDuration))",
                evidence: [:],
                at: now,
                into: &actions
            )
            return
        }
        guard !pausedByUser, let stepDeadline, now >= stepDeadline, let step = currentStep else { return }
        guard !stepFinished(at: now) else { return }
        var reason =
            "step \(stepIndex + 1) (\(step.description)) did not finish within progressDeadline "
            + DurationText.format(plan.strategy.progressDeadline)
        var evidence: [String: JSONValue] = [:]
        if let run = analysisRun {
            reason +=
                ": analysis inconclusive, \(run.passes) of \(run.step.windows) windows passed, "
                + "\(run.inconclusive) inconclusive"
            if let last = run.last { reason += " (last window: \(last.summary))" }
            evidence = run.tally
        } else if let waitingFor {
            reason += ": \(waitingFor)"
        }
        startRollback(.rolledBack, reason: reason, evidence: evidence, at: now, into: &actions)
    }

    private mutating func scheduleNextTimer(at now: Moment, into actions: inout [Action]) {
        guard outcome == nil else { return }
        var candidates: [Moment] = [startedAt + plan.strategy.maxDuration]
        if !pausedByUser {
            if let stepDeadline { candidates.append(stepDeadline) }
            if let pauseEnds { candidates.append(pauseEnds) }
        }
        if let rollbackStartedAt { candidates.append(rollbackStartedAt + plan.strategy.progressDeadline) }
        if let replacementHold, replacementHold > now { candidates.append(replacementHold) }
        if rollback == nil { candidates += hostDeadlines }
        guard let next = candidates.filter({ $0 > now }).min() ?? candidates.min() else { return }
        if lastTimer == next { return }
        lastTimer = next
        actions.append(.scheduleTimer(at: max(next, now)))
    }

    // MARK: Routes

    private mutating func updateRoutes(into actions: inout [Action]) {
        let plan = computeRoutes()
        guard plan != lastRoutes else { return }
        lastRoutes = plan
        actions.append(.setRoutes(plan))
        let percentages = plan.percentages
        if percentages != lastPercentages, !(lastPercentages == nil && percentages.isEmpty) {
            lastPercentages = percentages
            actions.append(
                record(
                    .trafficShifted,
                    ["weights": .object(percentages.mapValues { .double($0) }), "step": .int(stepIndex)]
                )
            )
        }
    }

    private func computeRoutes() -> RoutePlan {
        func ready(_ role: Role) -> [InstanceID] {
            members.filter { $0.value.role == role && $0.value.phase == .ready }.map(\.key).sorted()
        }
        let stable = ready(.stable)
        var candidate = ready(.candidate)
        if rollback != nil, !stable.isEmpty { candidate = [] }
        let stableVersion = plan.stable.version
        let candidateVersion = plan.candidate.version
        if stableVersion == candidateVersion {
            let all = (stable + candidate).sorted()
            return RoutePlan(groups: all.isEmpty ? [] : [.init(version: stableVersion, weight: 10_000, instances: all)])
        }
        // The candidate, then an A/B/n test's other variants: each takes the fixed share, the stable release the rest.
        var variants: [RoutePlan.Group] = []
        if !candidate.isEmpty { variants.append(.init(version: candidateVersion, weight: 0, instances: candidate)) }
        if rollback == nil || stable.isEmpty {
            for challenger in plan.challengers {
                let instances = members.filter {
                    $0.value.role == .challenger && $0.value.release == challenger && $0.value.phase == .ready
                }.map(\.key).sorted()
                if !instances.isEmpty {
                    variants.append(.init(version: challenger.version, weight: 0, instances: instances))
                }
            }
        }
        if rollback == nil {
            for index in variants.indices {
                switch weighting {
                case .fixed(let basisPoints): variants[index].weight = basisPoints
                case .proportional where mirroring != nil:
                    // A rolling update's mirror comes before its first batch: the candidate takes copies only.
                    variants[index].weight = 0
                case .proportional:
                    let total = stable.count + variants.map(\.instances.count).reduce(0, +)
                    variants[index].weight = total == 0 ? 0 : variants[index].instances.count * 10_000 / total
                }
            }
            // Never more than all of it (a deploy refuses shares that add up to more): the last variants give way.
            var excess = variants.map(\.weight).reduce(0, +) - 10_000
            for index in variants.indices.reversed() where excess > 0 {
                let cut = min(excess, variants[index].weight)
                variants[index].weight -= cut
                excess -= cut
            }
        }
        let rest = 10_000 - variants.map(\.weight).reduce(0, +)
        var groups: [RoutePlan.Group] = []
        if !stable.isEmpty {
            groups.append(.init(version: stableVersion, weight: rest, instances: stable))
        } else if !variants.isEmpty {
            variants[0].weight += rest
        }
        groups += variants
        var result = RoutePlan(groups: groups)
        if let routing = self.plan.strategy.routing, self.plan.purpose == .deploy, rollback == nil {
            if !candidate.isEmpty, !routing.match.isEmpty {
                result.rules = routing.match
                result.ruleVersion = candidateVersion
            }
            result.stickiness = routing.stickiness
        }
        if previewOpen, rollback == nil { result.preview = candidate }
        if let mirroring, rollback == nil, !candidate.isEmpty {
            result.mirror = RoutePlan.Mirror(
                version: candidateVersion,
                share: mirroring.share.basisPoints,
                methods: mirroring.methods,
                maxBodyBytes: mirroring.maxBodyBytes
            )
        }
        return result
    }

    // MARK: Events

    private func startedEvent() -> Action {
        var fields: [String: JSONValue] = [
            "rollout": .int(plan.number),
            "purpose": .string(plan.purpose.rawValue),
            "from": .string(plan.stable.version),
            "to": .string(plan.candidate.version),
            "strategy": .string(plan.strategyName),
            "by": .string(plan.by),
            "instances": .int(plan.instances),
            "plan": .array(steps.map { .string($0.description) }),
        ]
        if let reason = plan.reason { fields["reason"] = .string(reason) }
        if !plan.release.isEmpty { fields["release"] = plan.release.json }
        if !plan.challengers.isEmpty { fields["variants"] = .array(plan.challengers.map { .string($0.version) }) }
        let variantEnv = plan.challengers.filter { !$0.env.isEmpty }
        if !variantEnv.isEmpty {
            fields["variantEnv"] = .object(
                Dictionary(
                    uniqueKeysWithValues: variantEnv.map { ($0.version, .object($0.env.mapValues { .string($0) })) }
                )
            )
        }
        if !plan.candidate.env.isEmpty { fields["env"] = .object(plan.candidate.env.mapValues { .string($0) }) }
        if !plan.stable.env.isEmpty { fields["fromEnv"] = .object(plan.stable.env.mapValues { .string($0) }) }
        return record(.rolloutStarted, fields)
    }

    func record(_ kind: EventKind, _ fields: [String: JSONValue]) -> Action {
        var fields = fields
        fields["rollout"] = .int(plan.number)
        return .record(Event(app: plan.app, kind: kind, fields: fields))
    }

    private func record(_ kind: EventKind, _ id: InstanceID, _ fields: [String: JSONValue]) -> Action {
        var fields = fields
        fields["rollout"] = .int(plan.number)
        return .record(Event(app: plan.app, kind: kind, instance: id, fields: fields))
    }
}
