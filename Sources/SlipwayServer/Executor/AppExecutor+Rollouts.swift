import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayProxy

/// Rollouts: the commands users give the app, carried out as its machine answers them; a rollout's preview listener
/// and metrics windows.
extension AppExecutor {
    /// The rollout in progress, if any.
    var running: RolloutMachine? { machine.running }

    // MARK: Commands

    func deploy(_ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary {
        if let refusal = machine.validate(request) { throw refused(refusal) }
        // A release shipped as a file must have its file here before anything starts.
        for version in [request.version] + request.variants.map(\.version) {
            if let artifact = spec.run.artifactPath(version: version), !FileManager.default.fileExists(atPath: artifact)
            {
                throw CommandRefusal(
                    .notFound,
                    "no artifact for \(spec.name) \(version): \(artifact) does not exist "
                        + "(\(spec.keyPath("run.artifact"))); nothing was started"
                )
            }
        }
        // Every variant of an A/B/n test may be the one promoted: the deploy rules apply to each.
        var overrides: [AppMachine.Override] = []
        for version in [request.version] + request.variants.map(\.version) {
            let more = try policy.check(
                version: version,
                force: request.force,
                reason: request.reason,
                at: context.wallClock()
            )
            overrides += more.filter { !overrides.contains($0) }
        }
        return try await carryOut(machine.deploy(request, overriding: overrides, at: timeline.now))
    }

    func restart(by user: String) async throws(CommandRefusal) -> RolloutSummary {
        try await carryOut(machine.restart(by: user))
    }

    func command(_ command: UserCommand, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        let answer = machine.command(command, by: user, at: timeline.now)
        if command == .retry, case .startRollout(let plan, _, _) = answer {
            // A retry deploys its candidate again: the deploy rules apply to it.
            do {
                for release in [plan.candidate] + plan.challengers {
                    _ = try policy.check(version: release.version, force: false, reason: nil, at: context.wallClock())
                }
            } catch {
                if let event = machine.refusal(command, error.message, by: user).event { recorder.record(event) }
                throw error
            }
        }
        return try await carryOut(answer)
    }

    /// Carries out the machine's answer to a command and returns the rollout's summary after it.
    private func carryOut(_ answer: AppMachine.CommandAnswer) async throws(CommandRefusal) -> RolloutSummary {
        switch answer {
        case .refused(let refusal):
            throw refused(refusal)
        case .applied(let message, let actions):
            perform(actions)
            var summary = self.summary() ?? pendingSummary()
            summary.message = message
            return summary
        case .startRollout(let plan, let message, let actions):
            perform(actions)
            guard var summary = await startRollout(plan) else {
                let why = shuttingDown ? "the controller is stopping" : "another rollout of \(spec.name) began first"
                throw CommandRefusal(.conflict, "\(why); nothing was started")
            }
            if let message { summary.message = message }
            return summary
        }
    }

    private func refused(_ refusal: AppMachine.Refusal) -> CommandRefusal {
        if let event = refusal.event { recorder.record(event) }
        let code: CommandRefusal.Code
        switch refusal.code {
        case .badRequest: code = .badRequest
        case .notFound: code = .notFound
        case .conflict: code = .conflict
        }
        return CommandRefusal(code, refusal.message)
    }

    /// Prepares and begins a rollout the machine has planned; nil when another began first.
    func startRollout(_ plan: RolloutPlan) async -> RolloutSummary? {
        // A waiting deploy begins from a task of its own; a controller stopping meanwhile starts nothing.
        guard !shuttingDown else { return nil }
        await openPreviewIfNeeded(plan)
        guard !shuttingDown else {
            if let preview, preview.rollout == plan.number { closePreview() }
            return nil
        }
        perform(machine.begin(plan, at: timeline.now))
        guard machine.lastRollout?.plan.number == plan.number else {
            if let preview, preview.rollout == plan.number { closePreview() }
            return nil
        }
        if machine.running?.plan.number == plan.number { startMetrics(plan) }
        return summary()
    }

    /// The rollout ended: its metrics, hooks and preview listener go with it.
    func rolloutEnded(_ number: Int) {
        metrics?.cancel()
        metrics = nil
        hookTask?.cancel()
        hookTask = nil
        closePreview()
    }

    private func closePreview() {
        guard let preview else { return }
        self.preview = nil
        let router = self.router
        Task { try? await router.close(preview.name) }
    }

    // MARK: Summaries

    /// The live report of the experiment of the current (or last) rollout of this controller; nil when it had none.
    func experimentReport() -> ExperimentReport? {
        machine.lastRollout?.experiment?.report(at: timeline.now)
    }

    /// The current rollout's summary, else the last one's; nil when the app never had a rollout.
    func summary() -> RolloutSummary? {
        if machine.pending != nil { return pendingSummary() }
        if let rollout = machine.lastRollout { return RolloutSummary(rollout, app: spec.name) }
        return machine.lastEnded.map { RolloutSummary($0, app: spec.name) }
    }

    private func pendingSummary() -> RolloutSummary {
        let pending = machine.pending
        return RolloutSummary(
            rollout: pending?.number ?? machine.lastNumber,
            app: spec.name,
            from: machine.stable.version,
            to: pending?.request.version ?? "",
            strategy: pending?.request.strategy ?? spec.strategy.name,
            state: "pending",
            step: 0,
            steps: 0,
            stepDescription: "waiting for the rollout it supersedes to end",
            weights: machine.routes.percentages,
            reason: nil,
            message: "superseding the running rollout: traffic goes back to \(machine.stable.version) first"
        )
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
                ListenerSpec(
                    host: address.host,
                    port: address.port,
                    settings: ProxySettings(spec.proxy, healthPath: spec.health.path)
                )
            )
            preview = Preview(name: name, port: port, rollout: plan.number)
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
                // A sample taken before the data plane has the routes decided so far would start a window of
                // traffic split the old way (on a busy machine, setting routes can take longer than a window).
                await self.routesPublished()
                guard let sample = try? await router.sample(name) else { continue }
                let previewSample = await self.previewSample()
                let end = timeline.now
                guard let earlier = previous else {
                    // Without a first sample a window would hold everything since the data plane started, traffic
                    // an earlier controller may have counted already: this sample starts the first window instead.
                    previous = sample
                    previousPreview = previewSample
                    start = end
                    continue
                }
                var window = Self.window(from: earlier, to: sample, start: start, end: end)
                window.queries = await self.answers(plan: plan)
                // A query's answer belongs to the moment, not to a listener: steps judged on either read it.
                let previewWindow = previewSample.map { current in
                    var preview = Self.window(from: previousPreview, to: current, start: start, end: end)
                    preview.queries = window.queries
                    return preview
                }
                var mirrorWindow: MetricsWindow?
                if !sample.mirror.isEmpty {
                    mirrorWindow = Self.mirrorWindow(from: earlier, to: sample, start: start, end: end)
                    mirrorWindow?.queries = window.queries
                }
                previous = sample
                previousPreview = previewSample
                start = end
                self.metricsWindow(window, preview: previewWindow, mirror: mirrorWindow)
            }
        }
    }

    /// The answers to the queries the rollout needs for its next window, asked at once, placeholders filled in.
    private func answers(plan: RolloutPlan) async -> [QueryRequest: QueryAnswer] {
        let requests = running?.queries ?? []
        guard !requests.isEmpty else { return [:] }
        guard let source = context.queries else {
            return Dictionary(uniqueKeysWithValues: requests.map { ($0, .unavailable("no Prometheus is configured")) })
        }
        let values = [
            "app": spec.name,
            "environment": spec.environment ?? "",
            "baseline": plan.stable.version,
            "rollout": String(plan.number),
            "window": Self.promDuration(plan.analysis.interval),
        ]
        return await withTaskGroup(of: (QueryRequest, QueryAnswer).self) { group in
            for request in requests {
                let rendered = Placeholders.query.render(
                    request.query,
                    values.merging(["version": request.version]) { $1 }
                )
                group.addTask { (request, await source.answer(rendered)) }
            }
            var answers: [QueryRequest: QueryAnswer] = [:]
            for await (request, answer) in group { answers[request] = answer }
            return answers
        }
    }

    /// A duration as PromQL writes one: `2s`, `500ms`, `1m30s` is `90s`.
    static func promDuration(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)s" : "\(milliseconds)ms"
    }

    private func previewSample() async -> AppTrafficSample? {
        guard let preview else { return nil }
        return try? await router.sample(preview.name)
    }

    private func metricsWindow(_ window: MetricsWindow, preview: MetricsWindow?, mirror: MetricsWindow?) {
        guard running != nil else { return }
        feed(.metrics(window, preview: preview, mirror: mirror))
    }

    /// The mirrored requests between two samples: the copies' responses under the version they went to, the users'
    /// responses under the versions that served them (a mirror never copies a version's requests to itself, so the
    /// two never share a version).
    static func mirrorWindow(
        from earlier: AppTrafficSample,
        to later: AppTrafficSample,
        start: Moment,
        end: Moment
    ) -> MetricsWindow {
        func traffic(_ sample: AppTrafficSample) -> AppTrafficSample {
            AppTrafficSample(
                app: sample.app,
                takenAt: sample.takenAt,
                versions: sample.mirror.originals.merging(sample.mirror.shadows) { _, shadow in shadow }
            )
        }
        return window(from: traffic(earlier), to: traffic(later), start: start, end: end)
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
            for metric in AnalysisMetric.allCases {
                if let quantile = metric.quantile, let latency = traffic.latency(quantile: quantile) {
                    latencies[metric] = latency
                }
            }
            versions[version] = VersionWindow(
                requests: traffic.requests,
                errors: traffic.errors,
                latencies: latencies,
                classes: traffic.classes,
                latencyCounts: LatencyCounts(traffic.latencyBuckets),
                outcomes: traffic.outcomes,
                units: traffic.units
            )
        }
        return MetricsWindow(
            start: start,
            end: end,
            versions: versions,
            admission: later.waitingRoom.map { room in
                // A data plane started meanwhile counts from 0 again: its counts are the window's.
                let before = earlier?.waitingRoom.flatMap {
                    $0.admittedAfterWaiting <= room.admittedAfterWaiting ? $0 : nil
                }
                return AdmissionWindow(
                    admittedAfterWaiting: room.admittedAfterWaiting - (before?.admittedAfterWaiting ?? 0),
                    refused: max(0, room.refusedFull - (before?.refusedFull ?? 0)),
                    timedOut: max(0, room.timedOut - (before?.timedOut ?? 0)),
                    waitedSeconds: max(0, room.waitedSeconds - (before?.waitedSeconds ?? 0)),
                    waitingAtEnd: room.waiting
                )
            }
        )
    }
}

extension RolloutSummary {
    /// The summary of a rollout this controller runs or ran.
    init(_ machine: RolloutMachine, app: String) {
        self.init(
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
        release = machine.plan.release.isEmpty ? nil : machine.plan.release
    }

    /// The summary of a rollout that ended before this controller started.
    init(_ ended: AppMachine.EndedRollout, app: String) {
        self.init(
            rollout: ended.plan.number,
            app: app,
            from: ended.plan.stable.version,
            to: ended.plan.candidate.version,
            strategy: ended.plan.strategyName,
            state: ended.outcome,
            step: ended.step,
            steps: ended.plan.compile().steps.count,
            stepDescription: "done",
            weights: [:],
            reason: ended.reason
        )
        release = ended.plan.release.isEmpty ? nil : ended.plan.release
    }
}
