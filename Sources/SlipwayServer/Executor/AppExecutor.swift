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

/// The executor for one app: the only place its state machines' actions are carried out.
///
/// Between rollouts a ``SupervisorMachine`` keeps the stable release at its instance count; during one a
/// ``RolloutMachine`` owns every instance. Facts (instance started, probe results, exits, metrics windows, timers,
/// user commands) go into whichever machine is in charge; its actions go out through the ``Platform``, the data
/// plane (a ``TrafficRouter``: routes, drains, traffic samples), the warm-up runner and the ``EventLog``.
actor AppExecutor {
    enum Mode {
        case steady(SupervisorMachine)
        case rollout(RolloutMachine)
    }

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

    var mode: Mode
    /// The release between rollouts.
    var stable: Release
    /// Releases that were stable, oldest first (for `rollback`).
    var releases: [Release]
    /// The current rollout, or the last one this controller ran.
    var lastRollout: RolloutMachine?
    /// The last rollout that ended, with its summary (also when an earlier controller ran it).
    var lastEnded: (plan: RolloutPlan, summary: RolloutSummary)?
    var lastNumber: Int
    /// A deploy waiting for the rollout it supersedes to end.
    var pending: (request: DeployRequest, number: Int)?
    var runtimes: [InstanceID: Runtime] = [:]
    private var launching: Set<InstanceID> = []
    private var earlyExits: [InstanceID: InstanceExit] = [:]
    private var timer: (at: Moment, task: Task<Void, Never>)?
    var routes = RoutePlan(groups: [])
    private var routedOnce: Set<InstanceID> = []
    /// Instances the preview listener has routed to.
    private var previewRouted: Set<InstanceID> = []
    /// Route updates go to the data plane one after another, in the order they were decided.
    private var lastPublish: Task<Void, Never>?
    /// Adopted instances whose first probe has not answered yet. Until every one has, the data plane keeps the
    /// routes the previous controller gave it: this controller cannot yet tell a better table.
    private var routesHeldFor: Set<InstanceID> = []
    private var heldPlan: RoutePlan?
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
        let stable = recovered.stable ?? Release(version: spec.version)
        self.stable = stable
        self.releases = recovered.releases.isEmpty ? [stable] : recovered.releases
        self.lastNumber = recovered.lastNumber
        self.mode = .steady(
            SupervisorMachine(policy: Self.policy(spec, stable), firstInstanceNumber: firstInstanceNumber)
        )
    }

    private static func policy(_ spec: AppSpec, _ release: Release) -> SupervisorMachine.Policy {
        SupervisorMachine.Policy(
            app: spec.name,
            version: release.version,
            instances: spec.instances,
            backoff: CrashBackoff(initial: spec.restart.initialBackoff, maximum: spec.restart.maxBackoff),
            resetAfter: spec.restart.resetAfter
        )
    }

    // MARK: Starting and stopping

    /// Brings the app up: takes over what an earlier controller left running, carries on its unfinished rollout,
    /// and starts whatever is missing.
    func begin(recovered: RecoveredState) async {
        var adopted: [InstanceID: RecoveredState.Instance] = [:]
        for instance in recovered.alive.values.sorted(by: { $0.id < $1.id }) {
            guard
                let handle = await context.platform.adopt(
                    instance.id,
                    reference: instance.reference ?? "pid:\(instance.pid)",
                    host: instance.host,
                    port: instance.port
                )
            else { continue }
            adopted[instance.id] = instance
            let release = releaseOf(instance, recovered: recovered)
            // The data plane may route to it now; one passing probe is enough to keep it there.
            var policy = healthPolicy
            policy.healthyThreshold = 1
            runtimes[instance.id] = Runtime(
                handle: handle,
                health: HealthMachine(policy: policy, startedAt: timeline.now),
                prober: nil,
                release: release
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
        if let rollout = recovered.unfinished, let plan = plan(restoring: rollout) {
            var alive: [InstanceID: RolloutMachine.Role] = [:]
            for (id, instance) in adopted {
                alive[id] =
                    instance.role == "candidate"
                        || (instance.role == nil && instance.version == rollout.to.version
                            && rollout.to.version != rollout.from.version)
                    ? .candidate : .stable
            }
            let elapsed = Date().timeIntervalSince(rollout.startedAt)
            var machine = RolloutMachine(
                restoring: plan,
                step: rollout.step,
                pausedByUser: rollout.pausedByUser,
                rollback: rollout.rollback,
                alive: alive,
                firstInstanceNumber: nextNumber,
                startedAt: timeline.now - .milliseconds(Int64(max(0, elapsed) * 1000))
            )
            let actions = machine.handle(.begin, at: timeline.now)
            mode = .rollout(machine)
            lastRollout = machine
            await openPreviewIfNeeded(plan)
            startMetrics(plan)
            perform(rollout: actions)
            for id in adopted.keys.sorted() { startedAdopted(id) }
        } else {
            var keep: [InstanceID: SupervisorMachine.Phase] = [:]
            for (id, instance) in adopted.sorted(by: { $0.key < $1.key }) {
                if instance.version == stable.version, keep.count < spec.instances {
                    keep[id] = .launching
                } else {
                    Task { await self.context.platform.stop(id) }
                }
            }
            if case .steady(let machine) = mode {
                mode = .steady(
                    SupervisorMachine(
                        policy: machine.policy,
                        firstInstanceNumber: machine.nextInstanceNumber,
                        adopting: keep
                    )
                )
            }
            for id in keep.keys.sorted() { startedAdopted(id) }
            feed(.begin)
        }
        if let finished = recovered.lastFinished, lastRollout == nil, let plan = plan(restoring: finished) {
            // Remembered for `retry` and for the summary; never run again.
            lastEnded = (plan, summary(ended: finished, plan: plan))
        }
    }

    private func releaseOf(_ instance: RecoveredState.Instance, recovered: RecoveredState) -> Release {
        if let number = instance.rollout, let rollout = recovered.rollouts[number] {
            return instance.version == rollout.to.version && instance.role != "stable" ? rollout.to : rollout.from
        }
        return recovered.releases.last { $0.version == instance.version } ?? Release(version: instance.version)
    }

    /// An adopted instance is treated as just started: it is probed before it takes traffic.
    func startedAdopted(_ id: InstanceID) {
        guard let runtime = runtimes[id] else { return }
        feedInstance(.started(id))
        runtimes[id]?.prober = probeLoop(for: runtime.handle)
    }

    /// Stops every instance and returns once all have exited.
    func shutdown() async {
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

    private func isStopping(_ id: InstanceID) -> Bool {
        switch mode {
        case .steady(let machine): return machine.phases[id] == .stopping
        case .rollout(let machine): return machine.instances[id]?.phase == .stopping
        }
    }

    // MARK: Feeding the machines

    enum InstanceFact {
        case started(InstanceID)
        case startFailed(InstanceID, reason: String)
        case healthy(InstanceID)
        case unhealthy(InstanceID)
        case failedToStart(InstanceID, reason: String)
        case stayedUnhealthy(InstanceID, reason: String)
        case exited(InstanceID, status: String)
        case timerFired
    }

    private func feedInstance(_ fact: InstanceFact) {
        guard !shuttingDown else { return }
        switch mode {
        case .steady:
            let input: SupervisorMachine.Input
            switch fact {
            case .started(let id): input = .started(id)
            case .startFailed(let id, let reason): input = .startFailed(id, reason: reason)
            case .healthy(let id): input = .healthy(id)
            case .unhealthy(let id): input = .unhealthy(id)
            case .failedToStart(let id, let reason): input = .failedToStart(id, reason: reason)
            case .stayedUnhealthy(let id, let reason): input = .stayedUnhealthy(id, reason: reason)
            case .exited(let id, let status): input = .exited(id, status: status)
            case .timerFired: input = .timerFired
            }
            feed(input)
        case .rollout:
            let input: RolloutMachine.Input
            switch fact {
            case .started(let id): input = .started(id)
            case .startFailed(let id, let reason): input = .startFailed(id, reason: reason)
            case .healthy(let id): input = .healthy(id)
            case .unhealthy(let id): input = .unhealthy(id)
            case .failedToStart(let id, let reason): input = .failedToStart(id, reason: reason)
            case .stayedUnhealthy(let id, let reason): input = .stayedUnhealthy(id, reason: reason)
            case .exited(let id, let status): input = .exited(id, status: status)
            case .timerFired: input = .timerFired
            }
            feedRollout(input)
        }
    }

    func feed(_ input: SupervisorMachine.Input) {
        guard case .steady(var machine) = mode else { return }
        let actions = machine.handle(input, at: timeline.now)
        mode = .steady(machine)
        for action in actions {
            switch action {
            case .start(let id, _):
                launch(id, release: stable, role: nil)
            case .stop(let id, _):
                // Out of the routes first, then drained, then stopped.
                publishSteadyRoutes()
                stopInstance(id)
            case .record(let event):
                recorder.record(event)
            case .scheduleTimer(let moment):
                schedule(at: moment)
            }
        }
        publishSteadyRoutes()
    }

    func feedRollout(_ input: RolloutMachine.Input) {
        guard case .rollout(var machine) = mode else { return }
        let actions = machine.handle(input, at: timeline.now)
        mode = .rollout(machine)
        lastRollout = machine
        perform(rollout: actions)
    }

    func perform(rollout actions: [RolloutMachine.Action]) {
        guard case .rollout(let machine) = mode else { return }
        for action in actions {
            switch action {
            case .start(let id, let release):
                launch(id, release: release, role: machine.instances[id]?.role)
            case .stop(let id, _):
                stopInstance(id)
            case .warmUp(let id):
                warmUp(id)
            case .setRoutes(let plan):
                apply(plan)
            case .record(let event):
                recorder.record(event)
            case .scheduleTimer(let moment):
                schedule(at: moment)
            case .runHooks(let point):
                runHooks(point, for: machine)
            }
        }
        if machine.outcome != nil { endRollout(machine) }
    }

    // MARK: Instances

    private func launch(_ id: InstanceID, release: Release, role: RolloutMachine.Role?) {
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
        let number = lastRollout?.plan.number
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
        if let role, case .rollout = mode {
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

    private var healthPolicy: HealthMachine.Policy {
        let health = spec.health
        return HealthMachine.Policy(
            healthyThreshold: health.healthyThreshold,
            unhealthyThreshold: health.unhealthyThreshold,
            startDeadline: health.startDeadline,
            // Given up on after staying unhealthy as long again as it took to notice.
            unhealthyGrace: health.interval * health.unhealthyThreshold
        )
    }

    private func probeLoop(for handle: InstanceHandle) -> Task<Void, Never> {
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
                try? await Task.sleep(until: started + health.interval)
            }
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
        feedRollout(.warmedUp(id))
    }

    // MARK: Routes

    /// Between rollouts: every healthy instance of the stable release, with equal shares.
    func publishSteadyRoutes() {
        guard case .steady(let machine) = mode, !shuttingDown else { return }
        let healthy = machine.phases.filter { $0.value == .healthy }.map(\.key).sorted()
        apply(
            RoutePlan(
                groups: healthy.isEmpty ? [] : [.init(version: stable.version, weight: 10_000, instances: healthy)]
            )
        )
    }

    private func apply(_ plan: RoutePlan) {
        if !routesHeldFor.isEmpty {
            heldPlan = plan
            return
        }
        guard plan != routes else { return }
        let before = Set(routes.instances)
        let hadTraffic = !before.isEmpty
        let slowStart = spec.warmup.slowStart
        var versions: [RouteSpec.Version] = []
        for group in plan.groups {
            var instances: [RouteSpec.Instance] = []
            for id in group.instances {
                guard var instance = routeInstance(id) else { continue }
                // Slow start: an instance joining others that already take traffic ramps up its weight.
                if !before.contains(id), !routedOnce.contains(id), hadTraffic, slowStart > .zero {
                    instance.slowStartMs = Int(slowStart.milliseconds)
                }
                routedOnce.insert(id)
                instances.append(instance)
            }
            versions.append(RouteSpec.Version(version: group.version, weight: group.weight, instances: instances))
        }
        let rules: [RouteSpec.Rule] =
            plan.ruleVersion.map { version in
                plan.rules.map { rule in
                    switch rule.condition {
                    case .headerEquals(let name, let value):
                        return RouteSpec.Rule(kind: "header", name: name, value: value, version: version)
                    case .headerMatches(let name, let pattern):
                        return RouteSpec.Rule(kind: "headerPattern", name: name, value: pattern, version: version)
                    case .cookieEquals(let name, let value):
                        return RouteSpec.Rule(kind: "cookie", name: name, value: value, version: version)
                    }
                }
            } ?? []
        let stickiness: String?
        switch plan.stickiness {
        case .cookie(let name)?: stickiness = "cookie:\(name)"
        case .header(let name)?: stickiness = "header:\(name)"
        case nil: stickiness = nil
        }
        publish(RouteSpec(versions: versions, rules: rules, stickiness: stickiness), to: spec.name)
        routes = plan
        var fields: [String: JSONValue] = [
            "instances": .array(plan.instances.map { .string($0.rawValue) }),
            "weights": .object(plan.percentages.mapValues { .double($0) }),
        ]
        if let previewIDs = plan.preview, let preview {
            let instances = previewIDs.compactMap(routeInstance)
            let version = previewIDs.first.flatMap { runtimes[$0]?.release.version }
            publish(
                instances.isEmpty || version == nil
                    ? .empty
                    : RouteSpec(versions: [RouteSpec.Version(version: version!, weight: 10_000, instances: instances)]),
                to: preview.name
            )
            previewRouted.formUnion(previewIDs)
            fields["preview"] = .array(previewIDs.map { .string($0.rawValue) })
        }
        recorder.record(Event(app: spec.name, kind: .routesChanged, fields: fields))
    }

    private func routeInstance(_ id: InstanceID) -> RouteSpec.Instance? {
        guard let handle = runtimes[id]?.handle else { return nil }
        return RouteSpec.Instance(id: id.rawValue, host: handle.host, port: handle.port)
    }

    /// Sends routes to the data plane after every update decided before them.
    private func publish(_ routes: RouteSpec, to name: String) {
        let previous = lastPublish
        let router = self.router
        let logger = self.logger
        lastPublish = Task {
            await previous?.value
            do {
                try await router.setRoutes(name, routes)
            } catch {
                logger.error("cannot set the routes of \(name): \(error)")
            }
        }
    }

    /// The first probe of an adopted instance answered (or it exited): once all have, this controller's routes take
    /// over from the ones the data plane kept.
    private func releaseHeldRoutes(for id: InstanceID) {
        guard routesHeldFor.remove(id) != nil, routesHeldFor.isEmpty, let plan = heldPlan else { return }
        heldPlan = nil
        apply(plan)
    }

    /// Waits for an instance taken out of the routes to finish its in-flight requests, bounded by the drain timeout.
    private func drain(_ id: InstanceID) async {
        let started = ContinuousClock.now
        await lastPublish?.value
        let timeout = spec.proxy.drainTimeout
        if let preview { _ = try? await router.drain(preview.name, instances: [id.rawValue], timeout: timeout) }
        let busy = (try? await router.drain(spec.name, instances: [id.rawValue], timeout: timeout)) ?? []
        recorder.record(
            Event(
                app: spec.name,
                kind: .instanceDrained,
                instance: id,
                fields: [
                    "tookMs": .int(Int((ContinuousClock.now - started).milliseconds)),
                    "timedOut": .bool(!busy.isEmpty),
                    "inFlightLeft": .int(busy.count),
                ]
            )
        )
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
        feedInstance(.timerFired)
    }
}
