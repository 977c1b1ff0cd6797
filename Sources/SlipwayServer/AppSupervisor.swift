import Logging
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayPlatform
import SlipwayProxy
import SlipwayStore

/// The executor for one app: feeds facts into the app's ``SupervisorMachine`` and ``HealthMachine``s and
/// performs the actions they return through the ``Platform``, the probes and the ``EventLog``.
actor AppSupervisor {
    private struct Runtime {
        var handle: InstanceHandle
        var health: HealthMachine
        var prober: Task<Void, Never>?
    }

    let spec: AppSpec
    private let baseDirectory: String
    private let platform: any Platform
    private let recorder: EventRecorder
    private let prober: HealthProber
    private let timeline: Timeline
    private let logger: Logger
    private var machine: SupervisorMachine
    private var runtimes: [InstanceID: Runtime] = [:]
    private var timer: (at: Moment, task: Task<Void, Never>)?
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private let listener: AppListener?
    /// Healthy instances the listener sends requests to.
    private var routable: [InstanceID: UpstreamInstance] = [:]
    /// Instances taken out of the routes while still running (unhealthy): their in-flight requests are drained
    /// before they are stopped.
    private var unrouted: [InstanceID: UpstreamInstance] = [:]
    private var launching: Set<InstanceID> = []
    private var earlyExits: [InstanceID: InstanceExit] = [:]

    init(
        spec: AppSpec,
        baseDirectory: String,
        firstInstanceNumber: Int,
        platform: any Platform,
        recorder: EventRecorder,
        prober: HealthProber,
        timeline: Timeline,
        listener: AppListener?,
        logger: Logger
    ) {
        self.listener = listener
        self.spec = spec
        self.baseDirectory = baseDirectory
        self.platform = platform
        self.recorder = recorder
        self.prober = prober
        self.timeline = timeline
        self.logger = logger
        self.machine = SupervisorMachine(
            policy: SupervisorMachine.Policy(
                app: spec.name,
                version: spec.version,
                instances: spec.instances,
                backoff: CrashBackoff(initial: spec.restart.initialBackoff, maximum: spec.restart.maxBackoff),
                resetAfter: spec.restart.resetAfter
            ),
            firstInstanceNumber: firstInstanceNumber
        )
    }

    /// Brings the app to its instance count.
    func begin() {
        feed(.begin)
    }

    /// Stops every instance and returns once all have exited.
    func shutdown() async {
        timer?.task.cancel()
        timer = nil
        feed(.shutdown)
        if machine.isStopped { return }
        await withCheckedContinuation { stopWaiters.append($0) }
    }

    /// An instance of this app ended.
    func exited(_ exit: InstanceExit) {
        if launching.contains(exit.id) {
            // Its start has not been recorded yet; the exit is recorded right after it.
            earlyExits[exit.id] = exit
            return
        }
        let expected = machine.phases[exit.id] == .stopping
        runtimes.removeValue(forKey: exit.id)?.prober?.cancel()
        _ = retire(exit.id)
        var fields: [String: JSONValue] = [
            "status": .string(exit.status.description),
            "expected": .bool(expected),
            "ranForMs": .int(Int(exit.ranFor.milliseconds)),
        ]
        if !expected, !exit.stderrTail.isEmpty {
            fields["stderrTail"] = .array(exit.stderrTail.map(JSONValue.string))
        }
        recorder.record(Event(app: spec.name, kind: .instanceExited, instance: exit.id, fields: fields))
        feed(.exited(exit.id, status: exit.status.description))
    }

    private func feed(_ input: SupervisorMachine.Input) {
        perform(machine.handle(input, at: timeline.now))
        if machine.isStopped {
            let waiters = stopWaiters
            stopWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
    }

    private func perform(_ actions: [SupervisorMachine.Action]) {
        for action in actions {
            switch action {
            case .start(let id, let version):
                Task { await self.launch(id, version: version) }
            case .stop(let id, _):
                runtimes[id]?.prober?.cancel()
                runtimes[id]?.prober = nil
                let signal = spec.run.stopSignal.number
                let grace = spec.run.stopGracePeriod
                let draining = retire(id)
                Task {
                    if let draining { await self.drain(draining) }
                    await platform.stop(id, signal: signal, grace: grace)
                }
            case .record(let event):
                recorder.record(event)
            case .scheduleTimer(let moment):
                schedule(at: moment)
            }
        }
    }

    private func launch(_ id: InstanceID, version: String) async {
        launching.insert(id)
        let request = LaunchRequest(
            app: spec.name,
            version: version,
            instance: id,
            run: spec.run,
            logs: spec.logs,
            baseDirectory: baseDirectory
        )
        do {
            let handle = try await platform.start(request)
            recorder.record(
                Event(
                    app: spec.name,
                    kind: .instanceStarted,
                    instance: id,
                    fields: [
                        "version": .string(version),
                        "pid": .int(Int(handle.pid)),
                        "port": .int(handle.port),
                        "address": .string("\(handle.host):\(handle.port)"),
                    ]
                )
            )
            launching.remove(id)
            if let exit = earlyExits.removeValue(forKey: id) {
                feed(.started(id))
                exited(exit)
                return
            }
            if machine.phases[id] == .stopping {
                // Shutdown began while it was starting: the stop that went out then found nothing to stop.
                feed(.started(id))
                await platform.stop(id, signal: spec.run.stopSignal.number, grace: spec.run.stopGracePeriod)
                return
            }
            runtimes[id] = Runtime(
                handle: handle,
                health: HealthMachine(policy: healthPolicy, startedAt: timeline.now),
                prober: nil
            )
            feed(.started(id))
            runtimes[id]?.prober = probeLoop(for: handle)
        } catch {
            launching.remove(id)
            recorder.record(
                Event(
                    app: spec.name,
                    kind: .instanceStartFailed,
                    instance: id,
                    fields: ["version": .string(version), "error": .string(error.description)]
                )
            )
            feed(.startFailed(id, reason: error.description))
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
        let prober = self.prober
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
            var fields: [String: JSONValue] = ["version": .string(spec.version)]
            if let startup { fields["startupMs"] = .int(Int(startup.milliseconds)) } else { fields["recovered"] = true }
            recorder.record(Event(app: spec.name, kind: .instanceHealthy, instance: id, fields: fields))
            route(id, handle: runtime.handle)
            feed(.healthy(id))
        case .becameUnhealthy(let reason):
            recorder.record(
                Event(app: spec.name, kind: .instanceUnhealthy, instance: id, fields: ["reason": .string(reason)])
            )
            unroute(id)
            feed(.unhealthy(id))
        case .stayedUnhealthy(let duration):
            feed(.stayedUnhealthy(id, reason: "unhealthy for \(DurationText.format(duration))"))
        case .failedToStart(let reason):
            recorder.record(
                Event(app: spec.name, kind: .instanceFailedToStart, instance: id, fields: ["reason": .string(reason)])
            )
            feed(.failedToStart(id, reason: reason))
        }
    }

    // MARK: Routing

    /// Puts a healthy instance into the listener's route table.
    private func route(_ id: InstanceID, handle: InstanceHandle) {
        guard listener != nil, routable[id] == nil, machine.phases[id] != .stopping else { return }
        do {
            routable[id] = try UpstreamInstance(
                id: id.rawValue,
                version: spec.version,
                host: handle.host,
                port: handle.port
            )
            publishRoutes()
        } catch {
            logger.error("cannot route to \(id) at \(handle.host):\(handle.port): \(error)")
        }
    }

    /// Takes an instance out of the route table, remembering it until it is drained or gone.
    private func unroute(_ id: InstanceID) {
        guard let instance = routable.removeValue(forKey: id) else { return }
        unrouted[id] = instance
        publishRoutes()
    }

    /// Takes an instance out of the routes for good; returns it when it may still have requests in flight.
    private func retire(_ id: InstanceID) -> UpstreamInstance? {
        unroute(id)
        return unrouted.removeValue(forKey: id)
    }

    private func publishRoutes() {
        guard let listener else { return }
        let instances = routable.sorted { $0.key < $1.key }.map(\.value)
        do {
            listener.update(
                try RouteTable(versions: [VersionRoute(version: spec.version, weight: 10_000, instances: instances)])
            )
        } catch {
            logger.error("cannot build the route table of \(spec.name): \(error)")
            return
        }
        recorder.record(
            Event(
                app: spec.name,
                kind: .routesChanged,
                fields: ["instances": .array(instances.map { .string($0.id) })]
            )
        )
    }

    /// Waits for an instance taken out of the table to finish its in-flight requests, bounded by the drain timeout.
    private func drain(_ instance: UpstreamInstance) async {
        guard let listener else { return }
        let started = ContinuousClock.now
        let busy = await listener.drain([instance], timeout: spec.proxy.drainTimeout)
        recorder.record(
            Event(
                app: spec.name,
                kind: .instanceDrained,
                instance: InstanceID(instance.id),
                fields: [
                    "tookMs": .int(Int((ContinuousClock.now - started).milliseconds)),
                    "timedOut": .bool(!busy.isEmpty),
                    "inFlightLeft": .int(instance.inFlight),
                ]
            )
        )
    }

    private func schedule(at moment: Moment) {
        if let timer, timer.at <= moment { return }
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
