import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayProxy

/// Rollouts: starting one, the commands users give it, its metrics windows, and handing the app back to
/// supervision when it ends.
extension AppExecutor {
    /// The number the next instance gets.
    var nextNumber: Int {
        switch mode {
        case .steady(let machine): return machine.nextInstanceNumber
        case .rollout(let machine): return machine.nextInstanceNumber
        }
    }

    /// The rollout in progress, if any.
    var running: RolloutMachine? {
        if case .rollout(let machine) = mode, machine.outcome == nil { return machine }
        return nil
    }

    // MARK: Commands

    func deploy(_ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary {
        guard Self.isVersion(request.version) else {
            throw CommandRefusal(
                .badRequest,
                "version: \"\(request.version)\" is not a version (letters, digits, '.', '_', '+' and '-', starting "
                    + "with a letter or digit, at most 128 characters)"
            )
        }
        for key in request.env.keys where !Self.isEnvironmentName(key) {
            throw CommandRefusal(.badRequest, "env: \"\(key)\" is not an environment variable name")
        }
        let strategy = try strategy(named: request.strategy)
        let overrides = try policy.check(
            version: request.version,
            force: request.force,
            reason: request.reason,
            at: context.wallClock()
        )
        if pending != nil {
            throw CommandRefusal(.conflict, "a deploy of \(pending!.request.version) is already waiting to start")
        }
        if let machine = running {
            guard request.supersede else {
                throw CommandRefusal(
                    .conflict,
                    "rollout #\(machine.plan.number) (\(machine.plan.stable.version) → \(machine.plan.candidate.version), "
                        + "\(describe(machine))) is running; abort it first, or deploy with --supersede"
                )
            }
            lastNumber += 1
            recordForced(overrides, version: request.version, by: request.by, reason: request.reason)
            pending = (request, lastNumber)
            perform(rollout: supersede(machine, by: request.version))
            return pendingSummary()
        }
        let candidate = Release(version: request.version, env: request.env)
        if candidate == stable {
            throw CommandRefusal(
                .conflict,
                "\(request.version) is already the stable release of \(spec.name); `slipway restart \(spec.name)` "
                    + "replaces its instances"
            )
        }
        lastNumber += 1
        recordForced(overrides, version: request.version, by: request.by, reason: request.reason)
        return await startRollout(
            makePlan(
                number: lastNumber,
                purpose: .deploy,
                candidate: candidate,
                strategy: strategy,
                request.by,
                request.reason
            )
        )
    }

    func restart(by user: String) async throws(CommandRefusal) -> RolloutSummary {
        if let machine = running {
            throw CommandRefusal(
                .conflict,
                "rollout #\(machine.plan.number) is running; a restart waits until it has ended"
            )
        }
        lastNumber += 1
        return await startRollout(
            makePlan(number: lastNumber, purpose: .restart, candidate: stable, strategy: spec.strategy, user, "restart")
        )
    }

    func command(_ command: UserCommand, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        if case .rollout(var machine) = mode, machine.outcome == nil {
            let result = machine.command(command, by: user, at: timeline.now)
            guard result.accepted else {
                recordRefusal(command, result.message, by: user)
                throw CommandRefusal(.conflict, result.message)
            }
            mode = .rollout(machine)
            lastRollout = machine
            perform(rollout: result.actions)
            var summary = self.summary()
            summary?.message = result.message
            return summary ?? pendingSummary()
        }
        switch command {
        case .retry:
            guard let ended = lastEnded, ended.summary.state != "promoted" else {
                let message =
                    lastEnded.map { "rollout #\($0.summary.rollout) was promoted; there is nothing to retry" }
                    ?? "\(spec.name) has had no rollout to retry"
                recordRefusal(command, message, by: user)
                throw CommandRefusal(.conflict, message)
            }
            guard ended.plan.stable.version == stable.version else {
                let message =
                    "rollout #\(ended.summary.rollout) went from \(ended.plan.stable.version), but \(stable.version) "
                    + "is stable now; deploy \(ended.plan.candidate.version) instead"
                recordRefusal(command, message, by: user)
                throw CommandRefusal(.conflict, message)
            }
            do {
                _ = try policy.check(
                    version: ended.plan.candidate.version,
                    force: false,
                    reason: nil,
                    at: context.wallClock()
                )
            } catch {
                recordRefusal(command, error.message, by: user)
                throw error
            }
            lastNumber += 1
            var plan = ended.plan
            plan.number = lastNumber
            plan.by = user
            plan.reason = "retry of rollout #\(ended.summary.rollout)"
            var summary = await startRollout(plan)
            summary.message = "retrying rollout #\(ended.summary.rollout) as #\(plan.number)"
            return summary
        case .rollback(let version):
            let target: Release
            if let version {
                guard let release = releases.last(where: { $0.version == version }) else {
                    throw CommandRefusal(
                        .notFound,
                        "\(spec.name) never ran \(version); releases it ran: "
                            + releases.map(\.version).joined(separator: ", ")
                    )
                }
                target = release
            } else {
                guard let previous = releases.dropLast().last else {
                    let message = "\(spec.name) has no earlier release than \(stable.version) to go back to"
                    recordRefusal(command, message, by: user)
                    throw CommandRefusal(.conflict, message)
                }
                target = previous
            }
            if target == stable {
                let message = "\(target.version) is already the stable release of \(spec.name)"
                recordRefusal(command, message, by: user)
                throw CommandRefusal(.conflict, message)
            }
            lastNumber += 1
            var summary = await startRollout(
                makePlan(
                    number: lastNumber,
                    purpose: .rollback,
                    candidate: target,
                    strategy: spec.strategy,
                    user,
                    "rollback to \(target.version)"
                )
            )
            summary.message = "rolling back to \(target.version)"
            return summary
        default:
            // Already in effect (promote after promotion, abort after an abort) is accepted; the rest is refused.
            if let ended = lastEnded {
                let state = ended.summary.state
                let repeated =
                    (command == .promote(full: false) || command == .promote(full: true)) && state == "promoted"
                    || command == .abort && ["aborted", "rolledBack", "superseded"].contains(state)
                if repeated {
                    var summary = ended.summary
                    summary.message = "rollout #\(summary.rollout) already ended: \(state)"
                    return summary
                }
            }
            let message =
                "no rollout of \(spec.name) is running"
                + (lastEnded.map { " (the last one, #\($0.summary.rollout), ended \($0.summary.state))" } ?? "")
            recordRefusal(command, message, by: user)
            throw CommandRefusal(.conflict, message)
        }
    }

    /// The current rollout's summary, else the last one's; nil when the app never had a rollout.
    func summary() -> RolloutSummary? {
        if pending != nil { return pendingSummary() }
        if let machine = lastRollout { return Self.summary(of: machine, app: spec.name) }
        return lastEnded?.summary
    }

    /// Records that a deploy goes ahead against the rules in `overrides` (nothing when there are none).
    private func recordForced(_ overrides: [DeployPolicy.Override], version: String, by user: String, reason: String?) {
        guard !overrides.isEmpty else { return }
        recorder.record(
            Event(
                app: spec.name,
                kind: .deployForced,
                fields: [
                    "rollout": .int(lastNumber),
                    "version": .string(version),
                    "by": .string(user),
                    "reason": .string(reason ?? ""),
                    "overridden": .array(overrides.map { .string($0.policy) }),
                    "details": .array(overrides.map { .string($0.detail) }),
                ]
            )
        )
    }

    private func recordRefusal(_ command: UserCommand, _ message: String, by user: String) {
        recorder.record(
            Event(
                app: spec.name,
                kind: .commandRefused,
                fields: ["command": .string(command.name), "reason": .string(message), "by": .string(user)]
            )
        )
    }

    private func describe(_ machine: RolloutMachine) -> String {
        let step = min(machine.stepIndex + 1, machine.steps.count)
        return "step \(step)/\(machine.steps.count) \(machine.currentStep?.description ?? "finishing")"
    }

    private func pendingSummary() -> RolloutSummary {
        let request = pending?.request
        return RolloutSummary(
            rollout: pending?.number ?? lastNumber,
            app: spec.name,
            from: stable.version,
            to: request?.version ?? "",
            strategy: request?.strategy ?? spec.strategy.name,
            state: "pending",
            step: 0,
            steps: 0,
            stepDescription: "waiting for the rollout it supersedes to end",
            weights: routes.percentages,
            reason: nil,
            message: "superseding the running rollout: traffic goes back to \(stable.version) first"
        )
    }

    static func summary(of machine: RolloutMachine, app: String) -> RolloutSummary {
        RolloutSummary(
            rollout: machine.plan.number,
            app: app,
            from: machine.plan.stable.version,
            to: machine.plan.candidate.version,
            strategy: machine.plan.strategyName,
            state: machine.stateName,
            step: min(machine.stepIndex, machine.steps.count),
            steps: machine.steps.count,
            stepDescription: machine.currentStep?.description ?? "done",
            weights: machine.routes.percentages,
            reason: machine.rollback?.reason ?? machine.waitingFor
        )
    }

    func summary(ended rollout: RecoveredState.Rollout, plan: RolloutPlan) -> RolloutSummary {
        RolloutSummary(
            rollout: rollout.number,
            app: spec.name,
            from: rollout.from.version,
            to: rollout.to.version,
            strategy: rollout.strategy,
            state: rollout.outcome?.rawValue ?? "running",
            step: rollout.step,
            steps: plan.compile().steps.count,
            stepDescription: "done",
            weights: [:],
            reason: rollout.endReason
        )
    }

    // MARK: Plans

    private func strategy(named name: String?) throws(CommandRefusal) -> StrategySpec {
        guard let name, name != spec.strategy.name else { return spec.strategy }
        var strategy = spec.strategy
        switch name {
        case "recreate": strategy.kind = .recreate
        case "rolling": strategy.kind = .rolling(RollingSpec())
        case "blueGreen": strategy.kind = .blueGreen(BlueGreenSpec())
        case "canary": strategy.kind = .canary(Self.defaultCanary)
        default:
            throw CommandRefusal(
                .badRequest,
                "strategy: \"\(name)\" is not a strategy; expected recreate, rolling, blueGreen or canary"
            )
        }
        return strategy
    }

    /// The canary used when a deploy asks for one and the config defines none: 20%, 50%, each held 10s.
    static let defaultCanary = CanarySpec(
        steps: [
            .weight(Percentage(basisPoints: 2_000)), .pause(.seconds(10)), .weight(Percentage(basisPoints: 5_000)),
            .pause(.seconds(10)),
        ]
    )

    func makePlan(
        number: Int,
        purpose: RolloutPlan.Purpose,
        candidate: Release,
        strategy: StrategySpec,
        _ by: String,
        _ reason: String?
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

    /// The plan of a rollout an earlier controller started, with today's config for its strategy's settings.
    func plan(restoring rollout: RecoveredState.Rollout) -> RolloutPlan? {
        var strategy = spec.strategy
        if rollout.purpose == .deploy, rollout.strategy != spec.strategy.name {
            guard let named = try? self.strategy(named: rollout.strategy) else { return nil }
            strategy = named
        }
        var plan = makePlan(
            number: rollout.number,
            purpose: rollout.purpose,
            candidate: rollout.to,
            strategy: strategy,
            rollout.by,
            rollout.reason
        )
        plan.stable = rollout.from
        return plan
    }

    // MARK: Running a rollout

    func startRollout(_ plan: RolloutPlan) async -> RolloutSummary {
        var current: [InstanceID: RolloutMachine.InstancePhase] = [:]
        if case .steady(let supervisor) = mode {
            for (id, phase) in supervisor.phases {
                switch phase {
                case .launching: current[id] = .launching
                case .starting: current[id] = .starting
                case .healthy: current[id] = .ready
                case .unhealthy: current[id] = .unhealthy
                case .stopping: current[id] = .stopping
                }
            }
        }
        var machine = RolloutMachine(plan: plan, current: current, firstInstanceNumber: nextNumber)
        await openPreviewIfNeeded(plan)
        let actions = machine.handle(.begin, at: timeline.now)
        mode = .rollout(machine)
        lastRollout = machine
        startMetrics(plan)
        perform(rollout: actions)
        return summary() ?? Self.summary(of: machine, app: spec.name)
    }

    private func supersede(_ machine: RolloutMachine, by version: String) -> [RolloutMachine.Action] {
        var machine = machine
        let actions = machine.supersede(by: version, at: timeline.now)
        mode = .rollout(machine)
        lastRollout = machine
        return actions
    }

    /// Binds the blue-green preview listener when the plan has one.
    func openPreviewIfNeeded(_ plan: RolloutPlan) async {
        guard plan.purpose == .deploy, case .blueGreen(let blueGreen) = plan.strategy.kind,
            let address = blueGreen.previewListen, preview == nil
        else { return }
        let name = "\(spec.name)#preview"
        do {
            let port = try await router.open(
                name,
                ListenerSpec(host: address.host, port: address.port, settings: ProxySettings(spec.proxy))
            )
            preview = Preview(name: name, port: port)
            recorder.record(
                Event(
                    app: spec.name,
                    kind: .routesChanged,
                    fields: [
                        "previewListen": .string(HostPort(host: address.host, port: port).description),
                        "rollout": .int(plan.number),
                    ]
                )
            )
        } catch {
            logger.error("cannot open the preview listener of \(spec.name) on \(address): \(error)")
        }
    }

    /// Samples the listeners every analysis interval and feeds the windows to the rollout.
    func startMetrics(_ plan: RolloutPlan) {
        metrics?.cancel()
        let interval = plan.analysis.interval
        let router = self.router
        let name = spec.name
        let timeline = self.timeline
        metrics = Task {
            var previous = try? await router.sample(name)
            var previousPreview = await self.previewSample()
            var start = timeline.now
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                guard let sample = try? await router.sample(name) else { continue }
                let previewSample = await self.previewSample()
                let end = timeline.now
                let window = Self.window(from: previous, to: sample, start: start, end: end)
                let previewWindow = previewSample.map { current in
                    Self.window(from: previousPreview, to: current, start: start, end: end)
                }
                previous = sample
                previousPreview = previewSample
                start = end
                self.metricsWindow(window, preview: previewWindow)
            }
        }
    }

    private func previewSample() async -> AppTrafficSample? {
        guard let preview else { return nil }
        return try? await router.sample(preview.name)
    }

    private func metricsWindow(_ window: MetricsWindow, preview: MetricsWindow?) {
        guard running != nil else { return }
        feedRollout(.metrics(window, preview: preview))
    }

    static func window(
        from earlier: AppTrafficSample?,
        to later: AppTrafficSample,
        start: Moment,
        end: Moment
    ) -> MetricsWindow {
        var versions: [String: VersionWindow] = [:]
        for (version, snapshot) in later.versions {
            let traffic = snapshot.window(since: earlier?.versions[version] ?? .empty)
            var latencies: [AnalysisMetric: Duration] = [:]
            let quantiles: [(AnalysisMetric, Double)] = [
                (.p50, 0.5), (.p90, 0.9), (.p95, 0.95), (.p99, 0.99), (.p999, 0.999),
            ]
            for (metric, quantile) in quantiles {
                if let latency = traffic.latency(quantile: quantile) { latencies[metric] = latency }
            }
            versions[version] = VersionWindow(requests: traffic.requests, errors: traffic.errors, latencies: latencies)
        }
        return MetricsWindow(start: start, end: end, versions: versions)
    }

    /// Hands the app back to supervision on the winning release, and starts a deploy that was waiting.
    func endRollout(_ machine: RolloutMachine) {
        metrics?.cancel()
        metrics = nil
        hookTask?.cancel()
        hookTask = nil
        if let preview {
            self.preview = nil
            let router = self.router
            Task { try? await router.close(preview.name) }
        }
        let winner = machine.winner
        stable = winner
        releases.removeAll { $0 == winner }
        releases.append(winner)
        lastEnded = (machine.plan, Self.summary(of: machine, app: spec.name))
        var adopting: [InstanceID: SupervisorMachine.Phase] = [:]
        for (id, instance) in machine.instances {
            switch instance.phase {
            case .launching: adopting[id] = .launching
            case .starting, .warming: adopting[id] = .starting
            case .ready: adopting[id] = .healthy
            case .unhealthy: adopting[id] = .unhealthy
            case .stopping: adopting[id] = .stopping
            }
        }
        mode = .steady(
            SupervisorMachine(
                policy: SupervisorMachine.Policy(
                    app: spec.name,
                    version: winner.version,
                    instances: spec.instances,
                    backoff: CrashBackoff(initial: spec.restart.initialBackoff, maximum: spec.restart.maxBackoff),
                    resetAfter: spec.restart.resetAfter
                ),
                firstInstanceNumber: machine.nextInstanceNumber,
                adopting: adopting
            )
        )
        feed(.begin)
        if let waiting = pending {
            pending = nil
            let candidate = Release(version: waiting.request.version, env: waiting.request.env)
            guard candidate != stable, let strategy = try? strategy(named: waiting.request.strategy) else { return }
            let plan = makePlan(
                number: waiting.number,
                purpose: .deploy,
                candidate: candidate,
                strategy: strategy,
                waiting.request.by,
                waiting.request.reason
            )
            Task { _ = await self.startRollout(plan) }
        }
    }

    // MARK: Validation

    static func isVersion(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.utf8.count <= 128,
            first.properties.isAlphabetic || ("0"..."9").contains(first), first.isASCII
        else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || ".-_+".unicodeScalars.contains(scalar))
        }
    }

    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }
}
