import SlipwayConfig
import SlipwayCore

/// Plans, and taking over from an earlier controller: which instances it left keep which role, and whether its
/// unfinished rollout carries on.
extension AppMachine {
    /// An app as an earlier controller left it: the log's account (`recovered`), restricted to the instances the
    /// platform found still running (`adopted`).
    ///
    /// - Parameters:
    ///   - resuming: the plan of the unfinished rollout (``plan(restoring:)``), prepared by the executor; nil when
    ///     there is none or it cannot be restored, and then supervision takes over on the stable release.
    ///   - elapsed: how long ago the unfinished rollout started, by the wall clock.
    /// - Returns: what to do. Every adopted instance the machine keeps is treated as just started: it is probed
    ///   before it takes traffic; the others are stopped.
    public mutating func recover(
        _ recovered: RecoveredState,
        adopted: Set<InstanceID>,
        resuming plan: RolloutPlan?,
        elapsed: Duration,
        at now: Moment
    ) -> [Action] {
        markRecovered()
        if let finished = recovered.lastFinished, let finishedPlan = self.plan(restoring: finished) {
            // Remembered for `retry` and for the summary; never run again.
            setLastEnded(
                EndedRollout(
                    plan: finishedPlan,
                    outcome: finished.outcome ?? "rolledBack",
                    step: finished.step,
                    reason: finished.endReason
                )
            )
        }
        let instances = adopted.sorted().compactMap { recovered.alive[$0] }
        if let plan, let rollout = recovered.unfinished, rollout.number == plan.number {
            var alive: [InstanceID: RolloutMachine.Role] = [:]
            var challengerVersions: [InstanceID: String] = [:]
            for instance in instances {
                let onVariantSide = instance.role == "candidate" || instance.role == "challenger"
                if onVariantSide, plan.challengers.contains(where: { $0.version == instance.version }) {
                    // An A/B/n test's variant: a choice may have moved it from the candidate's side, or onto it.
                    alive[instance.id] = .challenger
                    challengerVersions[instance.id] = instance.version
                    continue
                }
                let candidate =
                    onVariantSide
                    || (instance.role == nil && instance.version == rollout.to && rollout.to != rollout.from)
                alive[instance.id] = candidate ? .candidate : .stable
            }
            var machine = RolloutMachine(
                restoring: plan,
                step: rollout.step,
                pausedByUser: rollout.pausedByUser,
                rollback: rollout.rollingBack,
                alive: alive,
                challengerVersions: challengerVersions,
                firstInstanceNumber: nextInstanceNumber,
                startedAt: now - elapsed,
                experiment: rollout.experimentCheckpoint.flatMap(Experiment.Checkpoint.init(json:)),
                variantChosen: rollout.chosenVariant != nil
            )
            var decided = machine.handle(.begin, at: now)
            for instance in instances { decided += machine.handle(.started(instance.id), at: now) }
            return took(machine, decided, at: now)
        }
        var keep: [InstanceID: SupervisorMachine.Phase] = [:]
        var actions: [Action] = []
        for instance in instances {
            if instance.version == stable.version, keep.count < spec.instances {
                keep[instance.id] = .launching
            } else {
                let reason =
                    "left running by an earlier controller; not one of the \(spec.instances) instances of "
                    + stable.version
                actions.append(.stop(instance.id, reason: reason))
                actions.append(
                    .record(
                        Event(
                            app: spec.name,
                            kind: .instanceStopping,
                            instance: instance.id,
                            fields: [
                                "reason": .string(reason)
                            ]
                        )
                    )
                )
            }
        }
        guard case .steady(let supervisor) = mode else {
            preconditionFailure("\(spec.name): recovery found a rollout in progress")
        }
        setMode(
            .steady(
                SupervisorMachine(
                    policy: supervisor.policy,
                    firstInstanceNumber: supervisor.nextInstanceNumber,
                    adopting: keep
                )
            )
        )
        for id in keep.keys.sorted() { actions += feedSupervisor(.started(id), at: now) }
        return actions + feedSupervisor(.begin, at: now)
    }

    // MARK: Plans

    /// The plan of a rollout an earlier controller started, with today's config for its strategy's settings; nil
    /// when today's config cannot run its strategy.
    public func plan(restoring rollout: RolloutRecord) -> RolloutPlan? {
        var strategy = spec.strategy
        if rollout.rolloutPurpose == .deploy, rollout.strategy != spec.strategy.name {
            guard let named = try? self.strategy(named: rollout.strategy) else { return nil }
            strategy = named
        }
        var plan = makePlan(
            number: rollout.number,
            purpose: rollout.rolloutPurpose,
            candidate: rollout.toRelease,
            strategy: strategy,
            by: rollout.by,
            reason: rollout.reason
        )
        plan.stable = rollout.fromRelease
        plan.release = rollout.release ?? ReleaseMetadata()
        plan.challengers = (rollout.variants ?? []).map { rollout.variantRelease($0) }
        return plan
    }

    /// The strategy a deploy asks for by name (nil: the app's own); the settings come from the config when it
    /// configures that strategy, else its defaults.
    public func strategy(named name: String?) throws(Refusal) -> StrategySpec {
        guard let name, name != spec.strategy.name else { return spec.strategy }
        var strategy = spec.strategy
        switch name {
        case "recreate": strategy.kind = .recreate
        case "rolling": strategy.kind = .rolling(RollingSpec())
        case "blueGreen": strategy.kind = .blueGreen(BlueGreenSpec())
        case "canary": strategy.kind = .canary(Self.defaultCanary)
        case "abTest": strategy.kind = .abTest(ABTestSpec())
        default:
            throw Refusal(
                code: .badRequest,
                message:
                    "strategy: \"\(name)\" is not a strategy; expected recreate, rolling, blueGreen, canary or abTest"
            )
        }
        return strategy
    }

    /// The canary used when a deploy asks for one and the config defines none: 20%, 50%, each held 10s.
    public static let defaultCanary = CanarySpec(
        steps: [
            .weight(Percentage(basisPoints: 2_000)), .pause(.seconds(10)), .weight(Percentage(basisPoints: 5_000)),
            .pause(.seconds(10)),
        ]
    )

    /// The plan of a deploy, valid by ``validate(_:)``: its version as the candidate, its further variants as an
    /// A/B/n test's challengers, with the strategy it names.
    func deployPlan(number: Int, _ request: DeployRequest) -> RolloutPlan {
        let strategy = (try? strategy(named: request.strategy)) ?? spec.strategy
        var plan = makePlan(
            number: number,
            purpose: .deploy,
            candidate: Release(version: request.version, env: request.env),
            strategy: strategy,
            by: request.by,
            reason: request.reason
        )
        plan.release = request.release
        plan.challengers = request.variants.map { variant in
            Release(version: variant.version, env: request.env.merging(variant.env) { _, own in own })
        }
        return plan
    }

    /// A plan from the stable release to `candidate`, with the app's settings.
    public func makePlan(
        number: Int,
        purpose: RolloutPlan.Purpose,
        candidate: Release,
        strategy: StrategySpec,
        by: String,
        reason: String?
    ) -> RolloutPlan {
        RolloutPlan(
            app: spec.name,
            number: number,
            purpose: purpose,
            stable: stable,
            candidate: candidate,
            instances: spec.instances,
            strategy: strategy,
            analysis: spec.analysis,
            warmUp: spec.warmup.sendsRequests,
            backoff: CrashBackoff(initial: spec.restart.initialBackoff, maximum: spec.restart.maxBackoff),
            by: by,
            reason: reason,
            hooks: spec.hooks.points.mapValues { $0.map(\.name) }
        )
    }
}

extension RecoveredState {
    /// The release an instance still alive runs: its rollout's side when a rollout started it, else the stable
    /// release of that version.
    public func release(of instance: Instance) -> Release {
        if let number = instance.rollout, let rollout = rollouts[number] {
            guard instance.role != "stable" else { return rollout.fromRelease }
            if instance.version == rollout.to { return rollout.toRelease }
            if rollout.variants?.contains(instance.version) == true { return rollout.variantRelease(instance.version) }
            return rollout.fromRelease
        }
        return releases.last { $0.version == instance.version } ?? Release(version: instance.version)
    }
}
