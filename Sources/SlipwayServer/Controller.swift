import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayKubernetes
import SlipwayPlatform
import SlipwayProxy
import SlipwayStore
import SlipwaySupervision
import Tracing
import UnixSignals

/// The controller: runs every app of a config at its instance count, supervised, with every fact in the event log.
///
/// A `Service`: run it in a `ServiceGroup`; on graceful shutdown it stops every instance it started (each with
/// its app's stop signal and grace period) before returning.
public final class Controller: Service, MetricSource, ControllerServing {
    /// Why a controller cannot start. Nothing was started or written when one of these is thrown.
    public enum StartError: Error, CustomStringConvertible {
        /// The config does not fit this machine.
        case config([ConfigDiagnostic])
        /// Another controller holds the state directory.
        case locked(String)
        /// The event log cannot be opened.
        case store(StoreError)

        public var description: String {
            switch self {
            case .config(let diagnostics): return diagnostics.map(\.description).joined(separator: "\n")
            case .locked(let reason): return reason
            case .store(let error): return error.description
            }
        }
    }

    /// The config being run.
    public let config: SlipwayConfig
    /// The event log.
    public let log: EventLog
    /// Where instances of the apps on this machine run.
    public let platform: LocalPlatform
    /// Where every app's instances run: this machine's platform, or the platform of each of the app's hosts.
    let placed: PlacedPlatform
    /// The platform of the apps on Kubernetes, when there are any.
    let kubernetes: KubernetesPlatform?
    /// The hosts the apps run on (none when every app runs on this machine).
    let fleet: HostFleet
    /// New events, for the API's event stream.
    public let broadcaster = EventBroadcaster()
    /// Every app's recent traffic, one point a second, for the dashboard's charts.
    public let history: MetricsHistory
    /// Records each rollout's traffic and failed requests for its report.
    let evidence: RolloutEvidence
    private let lock: StateDirectoryLock
    private let logger: Logger
    private let observer: @Sendable (RecordedEvent) -> Void
    private let apiToken: APIToken?
    private let sessions = SessionStore()
    /// Sends notices to the apps' Slack and webhook channels.
    private let notifier: Notifier
    /// The wall clock deploy windows are judged by (injected by tests).
    let wallClock: @Sendable () -> Date
    /// Requests per app and hour, written to the store for suggested deploy times.
    let trafficHours: TrafficHours
    /// Every app's status, folded from the log at start and kept current as events are recorded.
    private let statuses: NIOLockedValueBox<[String: AppStatus]>
    /// Where the data plane runs.
    private let dataPlaneMode: DataPlaneMode
    /// How a data plane process this controller starts writes its messages.
    private let logFormat: LogFormat
    /// Where traces go, when `controller.tracing` says; the data plane exports its requests' spans there too.
    private let tracingExport: TracingExport?
    /// The tracer of the rollout spans (and of the requests, with the data plane in this process), and the service
    /// that exports their spans.
    private let tracing: (tracer: any Tracer, service: any Service)?
    /// The data plane, once `run` has attached to it or started it.
    private let link = NIOLockedValueBox<DataPlaneLink?>(nil)
    /// What drives every app's listeners (this machine's data plane, or its hosts'), once `run` has them.
    private let router = NIOLockedValueBox<(any TrafficRouter)?>(nil)
    /// The port each app's listener is bound to, once it is.
    private let ports = NIOLockedValueBox([String: Int]())
    /// The chaos commands' desk, once `run` has a data plane.
    let chaosDesk = NIOLockedValueBox<ChaosFaults?>(nil)
    /// Chaos kills and freezes, once `run` has taken over the instances.
    let chaosKills = NIOLockedValueBox<ChaosKills?>(nil)
    /// Hosts cut off by chaos, once `run` has the hosts.
    let hostCuts = NIOLockedValueBox<HostCuts?>(nil)
    /// The apps' chaos monkeys, once `run` has taken over the instances.
    let chaosMonkey = NIOLockedValueBox<ChaosMonkey?>(nil)
    /// Set by ``stopLeavingServiceRunning()``: the next shutdown leaves instances and data plane running.
    private let leaveRunning = NIOLockedValueBox(false)
    /// Why the controller must stop at once, leaving the service running: another controller took an app's lease.
    private let lostLease = NIOLockedValueBox<String?>(nil)
    private let stopRequests = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    /// Checks the config against this machine, takes the state directory and opens its event log.
    /// - Parameters:
    ///   - observer: told of every event as it is appended.
    ///   - dataPlane: where the listeners run; `.process` for a data plane that outlives the controller.
    public init(
        config: SlipwayConfig,
        logger: Logger = Logger(label: "slipway.controller"),
        observer: @escaping @Sendable (RecordedEvent) -> Void = { _ in },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        dataPlane: DataPlaneMode = .embedded,
        logFormat: LogFormat = .text
    ) throws(StartError) {
        self.wallClock = wallClock
        self.dataPlaneMode = dataPlane
        self.logFormat = logFormat
        // Said first: a running controller is why its addresses are taken.
        if let pid = ControllerProcess.runningPid(stateDirectory: config.controller.stateDirectory) {
            throw .locked(
                "another controller (pid \(pid)) is already running with state directory "
                    + config.controller.stateDirectory
            )
        }
        let served = dataPlane != .embedded && DataPlaneLink.runs(stateDirectory: config.controller.stateDirectory)
        let problems = Preflight.checkFiles(config) + Preflight.checkAddresses(config, servedByDataPlane: served)
        guard problems.isEmpty else { throw .config(problems) }
        do {
            self.apiToken = try APIToken.configured(in: config)
        } catch {
            throw .config([error])
        }
        let directory = config.controller.stateDirectory
        do {
            self.lock = try StateDirectoryLock(directory: directory)
        } catch {
            throw .locked(error.description)
        }
        do {
            self.log = try EventLog(directory: directory)
        } catch {
            throw .store(error)
        }
        self.config = config
        self.logger = logger
        var folded: [String: AppStatus] = [:]
        for app in config.apps {
            do {
                folded[app.name] = AppStatus.fold(app: app.name, events: try log.events(app: app.name, limit: .max))
            } catch {
                throw .store(error)
            }
        }
        let statuses = NIOLockedValueBox(folded)
        self.statuses = statuses
        let broadcaster = self.broadcaster
        let notifier: Notifier
        do {
            notifier = try Notifier(config: config, dashboard: Self.dashboardLink(config.controller))
        } catch {
            throw .config([
                ConfigDiagnostic(
                    file: config.file,
                    location: .unknown,
                    keyPath: error.keyPath,
                    message: "\(error.problem) (channel \(error.channel))"
                )
            ])
        }
        self.notifier = notifier
        let export = config.controller.tracing.map(TracingExport.init)
        self.tracingExport = export
        var tracing: (tracer: any Tracer, service: any Service)?
        if let export {
            do {
                tracing = try export.makeBackend()
            } catch {
                throw .config([
                    ConfigDiagnostic(
                        file: config.file,
                        location: .unknown,
                        keyPath: "controller.tracing",
                        message: "cannot export traces to \(export.endpoint): \(error)"
                    )
                ])
            }
        }
        self.tracing = tracing
        let rolloutSpans = tracing.map { RolloutSpans(tracer: $0.tracer) }
        self.observer = { recorded in
            let status = statuses.withLockedValue { statuses in
                statuses[recorded.app, default: AppStatus(app: recorded.app)].apply(recorded)
                return statuses[recorded.app]
            }
            rolloutSpans?.record(recorded)
            observer(recorded)
            broadcaster.publish(recorded)
            notifier.handle(recorded, status: status)
        }
        let local = LocalPlatform(stateDirectory: directory, logger: logger)
        self.platform = local
        let fleet = try HostFleet(
            config: config,
            threads: config.controller.proxyThreads,
            logFormat: logFormat,
            logger: logger
        )
        self.fleet = fleet
        // Made last: its client must be shut down (by `run`) once made.
        let kubernetes: KubernetesPlatform?
        do {
            kubernetes = try KubernetesSetup.platform(for: config)
        } catch {
            throw .config([
                ConfigDiagnostic(file: config.file, location: .unknown, keyPath: "kubernetes", message: "\(error)")
            ])
        }
        self.kubernetes = kubernetes
        self.placed = fleet.platform(local: local, kubernetes: kubernetes, apps: config.apps)
        let trafficHours = TrafficHours(log: log)
        self.trafficHours = trafficHours
        let routerBox = self.router
        let names = config.apps.map(\.name).sorted()
        self.history = MetricsHistory(
            sample: {
                guard let router = routerBox.withLockedValue({ $0 }) else { return [] }
                var samples: [AppTrafficSample] = []
                for name in names {
                    if let sample = try? await router.sample(name) { samples.append(sample) }
                }
                return samples
            },
            counted: { requests, time in trafficHours.add(requests, at: time) }
        )
        self.evidence = RolloutEvidence(
            log: log,
            logger: logger,
            router: { routerBox.withLockedValue { $0 } },
            subjects: {
                statuses.withLockedValue { statuses in
                    statuses.values.compactMap { status in
                        status.rollout.map {
                            RolloutEvidence.Subject(
                                app: status.app,
                                rollout: $0.number,
                                startedAt: $0.startedAt,
                                endedAt: $0.endedAt
                            )
                        }
                    }
                }
            }
        )
    }

    private let listeners = ListenerRegistry()
    private let executors = NIOLockedValueBox([String: AppExecutor]())

    private func executor(_ app: String) throws(CommandRefusal) -> AppExecutor {
        guard let executor = executors.withLockedValue({ $0[app] }) else {
            let known = config.apps.map(\.name).joined(separator: ", ")
            throw CommandRefusal(.notFound, "no app named \"\(app)\" (apps: \(known))")
        }
        return executor
    }

    public func deploy(app: String, _ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary {
        try await executor(app).deploy(request)
    }

    public func command(
        app: String,
        _ command: UserCommand,
        by user: String
    ) async throws(CommandRefusal)
        -> RolloutSummary
    {
        try await executor(app).command(command, by: user)
    }

    public func restart(app: String, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        try await executor(app).restart(by: user)
    }

    public func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary? {
        try await executor(app).summary()
    }

    public func experiment(app: String) async throws(CommandRefusal) -> ExperimentReport? {
        try await executor(app).experimentReport()
    }

    public func run() async throws {
        if let kubernetes {
            // One controller at a time per app on Kubernetes: this machine's state directory names this one.
            let identity = "\(ProcessInfo.processInfo.hostName):\(config.controller.stateDirectory)"
            let logger = self.logger
            let lost = self.lostLease
            let stop = self.stopRequests.continuation
            do {
                // Another controller manages the app now: this one steps back at once, leaving what serves running,
                // as a controller that lost its leader election does.
                try await kubernetes.holdLeases(identity: identity) { [weak self] app, reason in
                    logger.critical("\(app): \(reason); stopping this controller, the service left running")
                    lost.withLockedValue { $0 = $0 ?? "app \(app): \(reason)" }
                    self?.stopLeavingServiceRunning()
                    stop.yield()
                }
            } catch {
                await kubernetes.shutdown()
                throw StartError.locked(error.description)
            }
        }
        do {
            try await serve()
        } catch {
            await kubernetes?.shutdown()
            throw error
        }
        await kubernetes?.shutdown()
        if let reason = lostLease.withLockedValue({ $0 }) {
            throw StartError.locked("stopped: \(reason); the instances and the data plane go on serving")
        }
    }

    private func serve() async throws {
        let exporting = tracing.map { TracingService(service: $0.service, logger: logger) }
        defer { exporting?.stopWithoutFlush() }
        let proxyGroup: MultiThreadedEventLoopGroup? =
            dataPlaneMode == .embedded
            ? MultiThreadedEventLoopGroup(numberOfThreads: config.controller.proxyThreads) : nil
        let link = DataPlaneLink(
            mode: dataPlaneMode,
            stateDirectory: config.controller.stateDirectory,
            threads: config.controller.proxyThreads,
            group: proxyGroup ?? MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            logFormat: logFormat,
            tracing: tracingExport.flatMap { export in tracing.map { (export, RequestTracing(tracer: $0.tracer)) } }
        )
        let recorder = EventRecorder(log: log, logger: logger, observer: observer)
        let routerBox = self.router
        let made = Result { () throws(StoreError) -> ChaosFaults in
            try ChaosFaults(
                apps: config.apps.map(\.name),
                log: log,
                record: { recorder.record($0) },
                router: { routerBox.withLockedValue { $0 } },
                wallClock: wallClock,
                logger: logger
            )
        }
        guard case .success(let desk) = made else {
            try? await proxyGroup?.shutdownGracefully()
            if case .failure(let error) = made { throw StartError.store(error) }
            return
        }
        let apps = config.apps.map(\.name)
        // A data plane's events concern the apps it serves: a host's, the apps on that host; this machine's, the
        // apps here.
        let placement = fleet.placement
        let concerned = { @Sendable (fields: [String: JSONValue]) -> [String] in
            guard case .string(let host) = fields["host"] else { return apps.filter { placement[$0] == nil } }
            return apps.filter { placement[$0]?.contains(host) == true }
        }
        // What the links find at start is recorded after `controllerStarted`; what happens later, as it happens.
        let early = NIOLockedValueBox<[(EventKind, [String: JSONValue])]?>([])
        let observe = { @Sendable (kind: EventKind, fields: [String: JSONValue]) in
            let held = early.withLockedValue { pending -> Bool in
                guard pending != nil else { return false }
                pending?.append((kind, fields))
                return true
            }
            if !held {
                for app in concerned(fields) { recorder.record(Event(app: app, kind: kind, fields: fields)) }
            }
        }
        do {
            try await link.connect(observe: observe)
        } catch {
            try? await proxyGroup?.shutdownGracefully()
            throw error
        }
        self.link.withLockedValue { $0 = link }
        fleet.recordRemoteCommands(with: recorder)
        // A host a chaos cut left frozen stays cut off (unreached) until the cut ends on time.
        let cuts = HostCuts(
            placement: fleet.placement,
            record: { recorder.record($0) },
            freeze: { [fleet] host, freeze in await fleet.freeze(host, freeze) },
            cutOff: { [fleet] host, reason in await fleet.cutOff(host, reason: reason) },
            chaosStopped: { await desk.isStopped },
            wallClock: wallClock,
            logger: logger
        )
        await cuts.recover(from: log)
        hostCuts.withLockedValue { $0 = cuts }
        // A host that cannot be reached now is made ready once it answers; meanwhile nothing is placed there.
        let unreachableAtStart: [(host: String, reason: String)]
        do {
            unreachableAtStart = try await fleet.prepare { _, kind, fields in observe(kind, fields) }
            for (host, reason) in unreachableAtStart {
                observe(.hostUnreachable, ["host": .string(host), "reason": .string(reason), "atStart": true])
                placed.setReachable(host, false)
            }
        } catch {
            await fleet.detach()
            await link.detach()
            try? await proxyGroup?.shutdownGracefully()
            throw error
        }
        let router = PlacedRouter(local: link.router, members: fleet.routers, placement: fleet.placement)
        self.router.withLockedValue { $0 = router }
        do {
            for app in config.apps {
                var settings = ProxySettings(
                    app.proxy,
                    healthPath: app.health.path,
                    accessLogPath: SupervisionPaths(
                        stateDirectory: config.controller.stateDirectory,
                        app: app.name,
                        instance: ""
                    ).accessLog
                )
                // The replay buffer holds at least as many requests as warm-up replays.
                settings.replayBufferSize = max(settings.replayBufferSize, app.warmup.replay)
                let port = try await router.open(
                    app.name,
                    ListenerSpec(host: app.listen.host, port: app.listen.port, settings: settings)
                )
                ports.withLockedValue { $0[app.name] = port }
                if let listener = await link.inProcess?.listener(app.name) { listeners.add(listener) }
            }
            // Listeners of apps no longer in the config go; a preview listener stays for its rollout to reopen.
            let known = Set(apps + apps.map { "\($0)#preview" })
            for name in (await link.status()?.listeners.keys).map(Array.init) ?? [] where !known.contains(name) {
                try await link.router.close(name)
            }
        } catch {
            await fleet.detach()
            await link.detach()
            try? await proxyGroup?.shutdownGracefully()
            throw error
        }
        defer { lock.release() }
        var clientConfiguration = HTTPClient.Configuration()
        // A probe judges the instance's own answer; a redirect elsewhere proves nothing about it.
        clientConfiguration.redirectConfiguration = .disallow
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: clientConfiguration
        )
        let timeline = Timeline()
        var warmUpConfiguration = HTTPClient.Configuration()
        // A warm-up request to an instance that refuses fails at once instead of retrying until its timeout.
        warmUpConfiguration.connectionPool.retryConnectionEstablishment = false
        warmUpConfiguration.redirectConfiguration = .disallow
        let warmUpClient = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: warmUpConfiguration
        )
        var executors: [String: AppExecutor] = [:]
        var recoveries: [String: RecoveredState] = [:]
        let found = early.withLockedValue { $0 ?? [] }
        for app in config.apps {
            var first: Int
            let recovered: RecoveredState
            do {
                first = try log.highestInstanceNumber(app: app.name) + 1
                recovered = RecoveredState.fold(try log.events(app: app.name, limit: .max))
            } catch {
                try await client.shutdown()
                try await warmUpClient.shutdown()
                throw StartError.store(error)
            }
            recoveries[app.name] = recovered
            var fields: [String: JSONValue] = [
                "version": .string(recovered.stable?.version ?? app.version),
                "instances": .int(app.instances),
                "listen": .string(listenAddress(of: app)),
                "config": .string(config.file),
                "pid": .int(Int(getpid())),
            ]
            if let unfinished = recovered.unfinished { fields["resumingRollout"] = .int(unfinished.number) }
            if !recovered.alive.isEmpty { fields["leftRunning"] = .int(recovered.alive.count) }
            recorder.record(Event(app: app.name, kind: .controllerStarted, fields: fields))
            for (kind, fields) in found where concerned(fields).contains(app.name) {
                recorder.record(Event(app: app.name, kind: kind, fields: fields))
            }
            // An instance started by a controller stopped before it could record the start runs unknown to the
            // log: it is stopped, and its number is never given again.
            let reclaimed = await placed.reclaim(app: app.name, keeping: Set(recovered.alive.keys))
            first = max(first, reclaimed.highestNumber + 1)
            let reason = "started by an earlier controller that stopped before recording it"
            for event in reclaimed.events(app: app.name, reason: reason) { recorder.record(event) }
            executors[app.name] = AppExecutor(
                spec: app,
                context: AppExecutor.Context(
                    baseDirectory: config.baseDirectory,
                    platform: placed,
                    recorder: recorder,
                    prober: HealthProber(client: client),
                    warmUp: WarmUpRunner(client: warmUpClient),
                    timeline: timeline,
                    router: router,
                    listenPort: ports.withLockedValue { $0[app.name] } ?? app.listen.port,
                    hooks: HookRunner(
                        baseDirectory: config.baseDirectory,
                        gates: WebhookGateClient(client: client),
                        recorder: recorder,
                        environment: ProcessInfo.processInfo.environment
                    ),
                    wallClock: wallClock,
                    queries: config.controller.prometheus.map { PrometheusClient(spec: $0, client: client) },
                    placeOf: { [placed] in placed.place(of: $0) },
                    firstHostAddress: app.hosts.first.flatMap { name in
                        config.hosts.first { $0.name == name }?.address
                    },
                    chaos: desk,
                    logger: logger
                ),
                recovered: recovered,
                firstInstanceNumber: first
            )
        }
        self.executors.withLockedValue { $0 = executors }
        let late = early.withLockedValue { pending in
            defer { pending = nil }
            return Array((pending ?? []).dropFirst(found.count))
        }
        for (kind, fields) in late {
            for app in concerned(fields) { recorder.record(Event(app: app, kind: kind, fields: fields)) }
        }
        notifier.start(client: client, recorder: recorder)

        let platform = self.placed
        let routing = executors
        let exits = Task {
            for await exit in platform.exits {
                guard let executor = routing[exit.id.app] else { continue }
                await executor.exited(exit)
            }
        }
        for (name, executor) in executors { await executor.begin(recovered: recoveries[name] ?? RecoveredState()) }
        for (host, _) in unreachableAtStart {
            for (app, hosts) in fleet.placement.sorted(by: { $0.key < $1.key }) where hosts.contains(host) {
                await executors[app]?.hostUnreachable(host)
            }
        }
        let hostWatch =
            fleet.isEmpty
            ? nil
            : Task { [placed, fleet] in
                await fleet.watch(timeline: timeline, placed: placed, recorder: recorder, executors: routing)
            }

        let kills = ChaosKills(
            apps: apps,
            record: { recorder.record($0) },
            status: { [statuses] app in statuses.withLockedValue { $0[app] } },
            signal: { [platform] instance, signal in await platform.signal(instance, signal) },
            wallClock: wallClock,
            logger: logger
        )
        // A freeze that was under way when the last controller stopped ends on time all the same.
        await kills.recover(from: log)
        chaosKills.withLockedValue { $0 = kills }
        // The data plane holds what the log says is in force before anyone can add or remove a fault.
        await desk.reconcile()
        chaosDesk.withLockedValue { $0 = desk }
        let monkey = ChaosMonkey(
            apps: config.apps,
            events: (try? log.events(kinds: ChaosMonkey.kinds)) ?? [],
            record: { recorder.record($0) },
            status: { [statuses] app in statuses.withLockedValue { $0[app] } },
            kills: kills,
            chaosStopped: { await desk.isStopped },
            wallClock: wallClock,
            logger: logger
        )
        chaosMonkey.withLockedValue { $0 = monkey }
        let monkeyTask = Task { await monkey.run() }
        let restarts = ScheduledRestarts(
            apps: config.apps,
            status: { [statuses] app in statuses.withLockedValue { $0[app] } },
            restart: { [executors] app, user throws(CommandRefusal) in
                guard let executor = executors[app] else {
                    throw CommandRefusal(.notFound, "no app named \"\(app)\"")
                }
                return try await executor.restart(by: user)
            },
            wallClock: wallClock,
            logger: logger
        )
        let restartTask = restarts.isEmpty ? nil : Task { await restarts.run() }
        let api = ControllerAPI(
            address: config.controller.api,
            controller: self,
            token: apiToken,
            sessions: sessions,
            logger: logger
        )
        let apiTask = Task { try await api.run() }
        let chaosTask = Task { await desk.run() }
        let history = self.history
        let historyTask = Task { try? await history.run() }
        let evidence = self.evidence
        let evidenceTask = Task { await evidence.run() }
        let outliers = OutlierWatch(
            apps: config.apps.map(\.name),
            router: { routerBox.withLockedValue { $0 } },
            recorder: recorder,
            executors: executors
        )
        let outlierTask = Task { await outliers.run() }

        // Runs until SIGTERM/SIGINT (or the group's shutdown), or until it must step back; cancellation ends the wait
        // too.
        let stopRequests = self.stopRequests.stream
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await gracefulShutdown() }
            group.addTask {
                for await _ in stopRequests { return }
            }
            await group.next()
            group.cancelAll()
        }
        // Open event streams end, so the API can close.
        broadcaster.finish()
        historyTask.cancel()
        hostWatch?.cancel()
        evidenceTask.cancel()
        outlierTask.cancel()
        chaosTask.cancel()
        monkeyTask.cancel()
        restartTask?.cancel()
        trafficHours.flush()
        // The API task shares the graceful shutdown and closes by itself; it is cancelled only if it lingers.
        let apiStopped = Task {
            try? await Task.sleep(for: .seconds(5))
            apiTask.cancel()
        }
        _ = try? await apiTask.value
        apiStopped.cancel()

        // No instance or host stays frozen by chaos once the controller is gone.
        await kills.thawAll()
        await cuts.restoreAll()
        let detaching = leaveRunning.withLockedValue { $0 }
        await withTaskGroup(of: Void.self) { group in
            for executor in executors.values {
                group.addTask { detaching ? await executor.detach() : await executor.shutdown() }
            }
        }
        self.executors.withLockedValue { $0 = [:] }
        for app in config.apps {
            let fields: [String: JSONValue] =
                detaching
                ? ["reason": "stopped alone; instances and data plane left running", "leftRunning": true]
                : ["reason": "shutdown"]
            recorder.record(Event(app: app.name, kind: .controllerStopped, fields: fields))
        }
        exits.cancel()
        // Notices of the last events (a rollout ended by the shutdown) still go out, within a bound.
        await notifier.shutdown(within: .seconds(5))
        if detaching {
            await fleet.detach()
            await link.detach()
        } else {
            await fleet.shutdown()
            await link.shutdown()
        }
        try? await proxyGroup?.shutdownGracefully()
        // The last spans (a rollout the shutdown ended) are exported, within a bound.
        await exporting?.flushAndStop(within: .seconds(5))
        try await client.shutdown()
        try await warmUpClient.shutdown()
    }

    /// Where notices link to: the configured dashboard URL, or the API's address when its port is fixed.
    public static func dashboardLink(_ controller: ControllerSpec) -> String? {
        if let url = controller.dashboardURL {
            return url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        guard controller.api.port != 0 else { return nil }
        let host = controller.api.host == "0.0.0.0" ? "127.0.0.1" : controller.api.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(controller.api.port)"
    }

    /// The address an app's listener is bound to (the configured one, with the actual port when it was 0).
    public func listenAddress(of app: AppSpec) -> String {
        HostPort(host: app.listen.host, port: port(of: app.name) ?? app.listen.port).description
    }

    /// The port `app`'s listener is bound to, once the controller runs.
    public func port(of app: String) -> Int? {
        ports.withLockedValue { $0[app] }
    }

    /// The listener of `app` when the data plane runs in this process, once the controller runs.
    public func listener(of app: String) -> AppListener? {
        listeners[app]
    }

    /// The routes the data plane serves for `app`.
    public func routes(of app: String) async -> RouteSpec? {
        guard let router = router.withLockedValue({ $0 }) else { return nil }
        return try? await router.routes(app)
    }

    /// What the data plane says about itself; nil before the controller runs or when it cannot be asked.
    public func dataPlaneStatus() async -> DataPlaneStatus? {
        guard let link = link.withLockedValue({ $0 }) else { return nil }
        return await link.status()
    }

    /// Makes the next graceful shutdown stop the controller alone: instances keep running and the data plane keeps
    /// serving, for a controller started again (or a newer one) to attach to.
    public func stopLeavingServiceRunning() {
        leaveRunning.withLockedValue { $0 = true }
    }

    public func sample(app: String) async throws -> AppTrafficSample {
        guard let router = router.withLockedValue({ $0 }), config.apps.contains(where: { $0.name == app }) else {
            throw UnknownApp(app: app)
        }
        return try await router.sample(app)
    }

    /// What the app looks like now: the projection of its events, kept current as they are recorded.
    public func status(app: String) throws(StoreError) -> AppStatus {
        if let status = statuses.withLockedValue({ $0[app] }) { return status }
        return AppStatus.fold(app: app, events: try log.events(app: app, limit: .max))
    }

    /// The app's deploy windows at this moment, the next ones, and its quietest hours over the last four weeks.
    public func windows(app name: String) throws(CommandRefusal) -> WindowsView {
        let calendar = try executor(name).policy.calendar
        let now = wallClock()
        trafficHours.flush()
        let traffic: [HourlyRequests]
        do {
            traffic = try log.traffic(app: name, since: now.addingTimeInterval(-28 * 86_400))
        } catch {
            throw CommandRefusal(.conflict, "the recorded traffic of \(name) cannot be read: \(error)")
        }
        return WindowsView.make(app: name, calendar: calendar, traffic: traffic, now: now)
    }

    /// Every app's traffic, for `/metrics`.
    public func samples() async -> [AppTrafficSample] {
        guard let router = router.withLockedValue({ $0 }) else { return [] }
        var samples: [AppTrafficSample] = []
        for app in config.apps.map(\.name).sorted() {
            if let sample = try? await router.sample(app) { samples.append(sample) }
        }
        return samples
    }

    /// No app of that name is configured.
    public struct UnknownApp: Error, CustomStringConvertible {
        public var app: String
        public var description: String { "no app named \"\(app)\"" }
    }

    /// Runs the controller until SIGINT or SIGTERM, then shuts down gracefully: every instance stopped and the data
    /// plane with them. SIGUSR1 stops the controller alone and leaves the service running.
    public func runUntilSignalled() async throws {
        var configuration = ServiceGroupConfiguration(services: [.init(service: self)], logger: logger)
        configuration.logging = .init()
        let group = ServiceGroup(configuration: configuration)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sigusr1)
        let watcher = Task {
            for await signal in signals {
                if signal == .sigusr1 { self.stopLeavingServiceRunning() }
                await group.triggerGracefulShutdown()
            }
        }
        defer { watcher.cancel() }
        try await group.run()
    }
}
