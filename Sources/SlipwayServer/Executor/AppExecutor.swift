import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayPlatform
import SlipwayProxy
import SlipwayStore

/// The executor for one app: the only place its ``AppMachine``'s actions are carried out.
///
/// The machine decides everything (supervision, rollouts, the hand-offs between them, which commands are accepted);
/// the executor holds no policy. Facts (instance started, probe results, exits, metrics windows, timers, hooks that
/// ended) go in; actions go out through the ``Platform``, the data plane (a ``TrafficRouter``: routes, drains,
/// traffic samples), the warm-up runner, the hook runner and the ``EventLog``.
///
/// One rule of the executor's own: after a controller restart, the data plane keeps the routes the previous controller
/// gave it until every adopted instance has answered its first probe, since until then this controller cannot vouch
/// for a better table.
actor AppExecutor {
    struct Runtime {
        var handle: InstanceHandle
        var health: HealthMachine
        var prober: Task<Void, Never>?
        var release: Release
    }

    /// The blue-green preview listener while it is open.
    struct Preview {
        var name: String
        var port: Int
        /// The rollout it was opened for.
        var rollout: Int
    }

    /// What the executor needs from the controller.
    struct Context: Sendable {
        var baseDirectory: String
        var platform: any Platform
        var recorder: EventRecorder
        var prober: HealthProber
        var warmUp: WarmUpRunner
        var timeline: Timeline
        /// The data plane serving the app's listener (named after the app) and its preview listener.
        var router: any TrafficRouter
        /// The port the app's listener is bound to.
        var listenPort: Int
        var hooks: HookRunner
        /// The wall clock deploy windows are judged by.
        var wallClock: @Sendable () -> Date
        /// Where the PromQL queries of analysis checks are asked; nil without `controller.prometheus`.
        var queries: (any QuerySource)?
        /// The place (host) that runs an instance, while it runs; nil on this machine.
        var placeOf: @Sendable (InstanceID) -> String? = { _ in nil }
        /// For an app on hosts, the address of its first host, where hooks reach its listeners (every host serves
        /// the same); nil on this machine.
        var firstHostAddress: String? = nil
        /// The chaos desk a chaos step's faults go through; nil where there is none.
        var chaos: ChaosFaults?
        var logger: Logger
    }

    let spec: AppSpec
    let context: Context
    /// The deploy windows and the environment requirement.
    let policy: DeployPolicy
    var router: any TrafficRouter { context.router }
    var recorder: EventRecorder { context.recorder }
    var timeline: Timeline { context.timeline }
    var logger: Logger { context.logger }

    /// Every decision about the app.
    var machine: AppMachine
    var runtimes: [InstanceID: Runtime] = [:]
    private var launching: Set<InstanceID> = []
    private var earlyExits: [InstanceID: InstanceExit] = [:]
    /// Exits reported while ``begin(recovered:)`` takes over what runs (nil once it has): fed to the machine once it
    /// knows every adopted instance. Over SSH, adopting each instance takes a while, and one that ended while nobody
    /// watched is reported as soon as it is adopted.
    private var exitsWhileBeginning: [InstanceExit]? = []
    private var timer: (at: Moment, task: Task<Void, Never>)?
    var routes = RoutePlan(groups: [])
    var routedOnce: Set<InstanceID> = []
    /// Instances the preview listener has routed to.
    var previewRouted: Set<InstanceID> = []
    /// Route updates go to the data plane one after another, in the order they were decided.
    var lastPublish: Task<Void, Never>?
    /// Adopted instances whose first probe has not answered yet. Until every one has, the data plane keeps the
    /// routes the previous controller gave it: this controller cannot yet tell a better table.
    var routesHeldFor: Set<InstanceID> = []
    var heldPlan: RoutePlan?
    var preview: Preview?
    var metrics: Task<Void, Never>?
    /// The hooks the rollout waits for, while they run.
    var hookTask: Task<Void, Never>?
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    var shuttingDown = false

    init(spec: AppSpec, context: Context, recovered: RecoveredState, firstInstanceNumber: Int) {
        self.spec = spec
        self.context = context
        self.policy = DeployPolicy(spec: spec, log: context.recorder.log)
        self.machine = AppMachine(
            spec: spec,
            stable: recovered.stable,
            releases: recovered.releases,
            lastNumber: recovered.lastNumber,
            firstInstanceNumber: firstInstanceNumber
        )
    }

    // MARK: Starting and stopping

    /// Brings the app up: takes over what an earlier controller left running, carries on its unfinished rollout,
    /// and starts whatever is missing.
    func begin(recovered: RecoveredState) async {
        var adopted: Set<InstanceID> = []
        for instance in recovered.alive.values.sorted(by: { $0.id < $1.id }) {
            guard
                let handle = await context.platform.adopt(
                    instance.id,
                    version: instance.version,
                    reference: instance.reference ?? "pid:\(instance.pid)",
                    host: instance.host,
                    port: instance.port
                )
            else { continue }
            adopted.insert(instance.id)
            // The data plane may route to it now; one passing probe is enough to keep it there.
            var policy = healthPolicy
            policy.healthyThreshold = 1
            runtimes[instance.id] = Runtime(
                handle: handle,
                health: HealthMachine(policy: policy, startedAt: timeline.now),
                prober: nil,
                release: recovered.release(of: instance)
            )
            routesHeldFor.insert(instance.id)
            recorder.record(
                Event(
                    app: spec.name,
                    kind: .instanceAdopted,
                    instance: instance.id,
                    fields: [
                        "pid": .int(Int(instance.pid)),
                        "version": .string(instance.version),
                        "address": .string("\(instance.host):\(instance.port)"),
                    ]
                )
            )
        }
        let unfinished = recovered.unfinished
        let plan = unfinished.flatMap(machine.plan(restoring:))
        if let plan { await openPreviewIfNeeded(plan) }
        let elapsed = unfinished.map { Date().timeIntervalSince($0.startedAt) } ?? 0
        perform(
            machine.recover(
                recovered,
                adopted: adopted,
                resuming: plan,
                elapsed: .milliseconds(Int64(max(0, elapsed) * 1000)),
                at: timeline.now
            )
        )
        if let running = machine.running { startMetrics(running.plan) }
        // An adopted instance is treated as just started: it is probed before it takes traffic.
        for id in adopted.sorted() where machine.knows(id) && !machine.isStopping(id) {
            if let handle = runtimes[id]?.handle { runtimes[id]?.prober = probeLoop(for: handle) }
        }
        let held = exitsWhileBeginning ?? []
        exitsWhileBeginning = nil
        for exit in held { exited(exit) }
    }

    /// Stops every instance and returns once all have exited.
    func shutdown() async {
        await removeChaosStepFault()
        shuttingDown = true
        timer?.task.cancel()
        timer = nil
        metrics?.cancel()
        metrics = nil
        let ids = runtimes.keys.sorted() + launching.sorted()
        for id in ids {
            runtimes[id]?.prober?.cancel()
            runtimes[id]?.prober = nil
        }
        routes = RoutePlan(groups: [])
        routesHeldFor.removeAll()
        publish(.empty, to: spec.name)
        await lastPublish?.value
        let all = Set(runtimes.keys)
        if all.isEmpty, launching.isEmpty { return }
        for id in all.sorted() {
            recorder.record(
                Event(
                    app: spec.name,
                    kind: .instanceStopping,
                    instance: id,
                    fields: ["reason": "controller shutting down"]
                )
            )
            stopInstance(id)
        }
        if runtimes.isEmpty, launching.isEmpty { return }
        await withCheckedContinuation { stopWaiters.append($0) }
        if let preview { try? await router.close(preview.name) }
        preview = nil
    }

    /// Lets go of the app without touching it: instances keep running and the data plane keeps its routes, for a
    /// controller that stops alone (to be restarted or upgraded) and the one that attaches after it.
    func detach() async {
        await removeChaosStepFault()
        shuttingDown = true
        timer?.task.cancel()
        timer = nil
        metrics?.cancel()
        metrics = nil
        hookTask?.cancel()
        for id in runtimes.keys {
            runtimes[id]?.prober?.cancel()
            runtimes[id]?.prober = nil
        }
        await lastPublish?.value
    }

    private func checkStopped() {
        guard shuttingDown, runtimes.isEmpty, launching.isEmpty else { return }
        let waiters = stopWaiters
        stopWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// An instance of this app ended.
    func exited(_ exit: InstanceExit) {
        if exitsWhileBeginning != nil {
            exitsWhileBeginning?.append(exit)
            return
        }
        if launching.contains(exit.id) {
            // Its start has not been recorded yet; the exit is recorded right after it.
            earlyExits[exit.id] = exit
            return
        }
        let expected = shuttingDown || isStopping(exit.id)
        let runtime = runtimes.removeValue(forKey: exit.id)
        runtime?.prober?.cancel()
        releaseHeldRoutes(for: exit.id)
        var fields: [String: JSONValue] = [
            "status": .string(exit.status.description),
            "expected": .bool(expected),
            "ranForMs": .int(Int(exit.ranFor.milliseconds)),
        ]
        if let version = runtime?.release.version { fields["version"] = .string(version) }
        if !expected, !exit.stderrTail.isEmpty {
            fields["stderrTail"] = .array(exit.stderrTail.map(JSONValue.string))
        }
        recorder.record(Event(app: spec.name, kind: .instanceExited, instance: exit.id, fields: fields))
        if shuttingDown {
            checkStopped()
            return
        }
        feedInstance(.exited(exit.id, status: exit.status.description))
    }

    func isStopping(_ id: InstanceID) -> Bool { machine.isStopping(id) }

    // MARK: Feeding the machine

    private func feedInstance(_ fact: InstanceFact) {
        feed(.instance(fact))
    }

    /// Feeds the machine and carries out what it decides.
    func feed(_ input: AppMachine.Input) {
        guard !shuttingDown else { return }
        perform(machine.handle(input, at: timeline.now))
    }

    func perform(_ actions: [AppMachine.Action]) {
        for action in actions {
            switch action {
            case .start(let id, let release, let role, let rollout):
                launch(id, release: release, role: role, rollout: rollout)
            case .stop(let id, _):
                stopInstance(id)
            case .warmUp(let id):
                warmUp(id)
            case .setRoutes(let plan):
                apply(plan)
            case .record(let event):
                recorder.record(event)
            case .recordStderrTail(let id, let version, let rollout):
                recordStderrTail(id, version: version, rollout: rollout)
            case .scheduleTimer(let moment):
                schedule(at: moment)
            case .runHooks(let point, let hookContext):
                runHooks(point, hookContext)
            case .rolloutEnded(let number):
                rolloutEnded(number)
            case .beginRollout(let plan):
                Task { _ = await self.startRollout(plan) }
            case .setChaosFault(let fault, let rollout):
                applyChaosFault(fault, rollout: rollout)
            }
        }
    }

    /// Lines of an instance's standard error an `instanceLogTail` event keeps.
    static let stderrTailLines = 40

    private func recordStderrTail(_ id: InstanceID, version: String, rollout: Int) {
        let platform = context.platform
        let recorder = self.recorder
        let app = spec.name
        Task {
            let lines = await platform.stderrTail(of: id, lines: Self.stderrTailLines)
            let fields: [String: JSONValue] = [
                "rollout": .int(rollout),
                "version": .string(version),
                "lines": .array(lines.map(JSONValue.string)),
            ]
            recorder.record(Event(app: app, kind: .instanceLogTail, instance: id, fields: fields))
        }
    }

    // MARK: Instances

    private func launch(_ id: InstanceID, release: Release, role: RolloutMachine.Role?, rollout number: Int?) {
        launching.insert(id)
        var run = spec.run
        for (key, value) in release.env { run.env[key] = value }
        let request = LaunchRequest(
            app: spec.name,
            version: release.version,
            instance: id,
            run: run,
            logs: spec.logs,
            baseDirectory: context.baseDirectory
        )
        Task {
            do {
                let handle = try await context.platform.start(request)
                self.started(id, handle: handle, release: release, role: role, rollout: number)
            } catch let error as LaunchError {
                self.startFailed(id, release: release, error: error)
            } catch {
                self.startFailed(id, release: release, error: .spawnFailed(String(describing: error)))
            }
        }
    }

    private func started(
        _ id: InstanceID,
        handle: InstanceHandle,
        release: Release,
        role: RolloutMachine.Role?,
        rollout: Int?
    ) {
        var fields: [String: JSONValue] = [
            "version": .string(release.version),
            "pid": .int(Int(handle.pid)),
            "port": .int(handle.port),
            "address": .string("\(handle.host):\(handle.port)"),
            "reference": .string(handle.reference),
        ]
        if let supervisor = handle.supervisorPid { fields["supervisorPid"] = .int(Int(supervisor)) }
        if let role {
            fields["role"] = .string(role.rawValue)
            if let rollout { fields["rollout"] = .int(rollout) }
        }
        recorder.record(Event(app: spec.name, kind: .instanceStarted, instance: id, fields: fields))
        launching.remove(id)
        runtimes[id] = Runtime(
            handle: handle,
            health: HealthMachine(policy: healthPolicy, startedAt: timeline.now),
            prober: nil,
            release: release
        )
        if shuttingDown {
            stopInstance(id)
            return
        }
        if let exit = earlyExits.removeValue(forKey: id) {
            feedInstance(.started(id))
            exited(exit)
            return
        }
        feedInstance(.started(id))
        if isStopping(id) {
            stopInstance(id)
            return
        }
        runtimes[id]?.prober = probeLoop(for: handle)
    }

    private func startFailed(_ id: InstanceID, release: Release, error: LaunchError) {
        launching.remove(id)
        recorder.record(
            Event(
                app: spec.name,
                kind: .instanceStartFailed,
                instance: id,
                fields: ["version": .string(release.version), "error": .string(error.description)]
            )
        )
        if shuttingDown {
            checkStopped()
            return
        }
        feedInstance(.startFailed(id, reason: error.description))
    }

    /// Drains the instance (it is already out of the routes), then stops it.
    private func stopInstance(_ id: InstanceID) {
        runtimes[id]?.prober?.cancel()
        runtimes[id]?.prober = nil
        let routed = routedOnce.contains(id) || previewRouted.contains(id)
        let platform = context.platform
        Task {
            if routed { await self.drain(id) }
            await platform.stop(id)
        }
    }

    var healthPolicy: HealthMachine.Policy {
        let health = spec.health
        // Given up on after staying unhealthy as long again as it took to notice; on hosts, not before a lost host
        // can be told from a failed instance (a lost host holds its instances rather than failing them).
        var grace = health.interval * health.unhealthyThreshold
        if !spec.hosts.isEmpty { grace = max(grace, HostWatch.timeToLose) }
        return HealthMachine.Policy(
            healthyThreshold: health.healthyThreshold,
            unhealthyThreshold: health.unhealthyThreshold,
            startDeadline: health.startDeadline,
            unhealthyGrace: grace
        )
    }

    /// How often an instance that has not been healthy yet is probed, when `health.interval` is longer.
    static let startingProbeInterval = Duration.milliseconds(250)

    func probeLoop(for handle: InstanceHandle) -> Task<Void, Never> {
        let health = spec.health
        let prober = context.prober
        return Task {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let outcome = await prober.probe(
                    host: handle.host,
                    port: handle.port,
                    path: health.path,
                    timeout: health.timeout
                )
                if Task.isCancelled { return }
                self.probed(handle.id, outcome)
                // A starting instance is asked often, so that the end of a slow start is seen at once and not an
                // interval later.
                let starting: Bool
                if case .starting = self.runtimes[handle.id]?.health.state { starting = true } else { starting = false }
                let wait = starting ? min(health.interval, Self.startingProbeInterval) : health.interval
                try? await Task.sleep(until: started + wait)
            }
        }
    }

    /// The proxy ejected `id` after failed requests: its health is checked now rather than at the next interval, so
    /// that an instance that is really unhealthy is noticed (and replaced) sooner.
    func outlierEjected(_ id: InstanceID) {
        guard let handle = runtimes[id]?.handle, runtimes[id]?.prober != nil else { return }
        let health = spec.health
        let prober = context.prober
        Task {
            let outcome = await prober.probe(
                host: handle.host,
                port: handle.port,
                path: health.path,
                timeout: health.timeout
            )
            self.probed(id, outcome)
        }
    }

    private func probed(_ id: InstanceID, _ outcome: HealthProber.Outcome) {
        guard var runtime = runtimes[id], runtime.prober != nil else { return }
        defer { releaseHeldRoutes(for: id) }
        let now = timeline.now
        let transition: HealthMachine.Transition?
        switch outcome {
        case .passed: transition = runtime.health.probeSucceeded(at: now)
        case .failed(let reason): transition = runtime.health.probeFailed(at: now, reason: reason)
        }
        runtimes[id] = runtime
        guard let transition else { return }
        switch transition {
        case .becameHealthy(let startup):
            var fields: [String: JSONValue] = ["version": .string(runtime.release.version)]
            if let startup { fields["startupMs"] = .int(Int(startup.milliseconds)) } else { fields["recovered"] = true }
            recorder.record(Event(app: spec.name, kind: .instanceHealthy, instance: id, fields: fields))
            feedInstance(.healthy(id))
        case .becameUnhealthy(let reason):
            recorder.record(
                Event(app: spec.name, kind: .instanceUnhealthy, instance: id, fields: ["reason": .string(reason)])
            )
            feedInstance(.unhealthy(id))
        case .stayedUnhealthy(let duration):
            feedInstance(.stayedUnhealthy(id, reason: "unhealthy for \(DurationText.format(duration))"))
        case .failedToStart(let reason):
            recorder.record(
                Event(app: spec.name, kind: .instanceFailedToStart, instance: id, fields: ["reason": .string(reason)])
            )
            feedInstance(.failedToStart(id, reason: reason))
        }
    }

    // MARK: Warm-up

    private func warmUp(_ id: InstanceID) {
        guard let handle = runtimes[id]?.handle else { return }
        let warmup = spec.warmup
        let runner = context.warmUp
        let router = self.router
        let name = spec.name
        Task {
            let replay = warmup.replay > 0 ? (try? await router.recentRequests(name, limit: warmup.replay)) ?? [] : []
            let report = await runner.run(host: handle.host, port: handle.port, spec: warmup, replay: replay)
            self.warmedUp(id, report)
        }
    }

    private func warmedUp(_ id: InstanceID, _ report: WarmUpReport) {
        guard runtimes[id] != nil else { return }
        var fields = report.fields
        if let version = runtimes[id]?.release.version { fields["version"] = .string(version) }
        recorder.record(Event(app: spec.name, kind: .instanceWarmedUp, instance: id, fields: fields))
        feed(.warmedUp(id))
    }

    // MARK: Timers

    private func schedule(at moment: Moment) {
        if let timer, timer.at <= moment, timer.at > timeline.now { return }
        timer?.task.cancel()
        let delay = moment - timeline.now
        timer = (
            moment,
            Task {
                try? await Task.sleep(for: max(delay, .zero))
                if Task.isCancelled { return }
                self.timerFired()
            }
        )
    }

    private func timerFired() {
        timer = nil
        feed(.timerFired)
    }
}
