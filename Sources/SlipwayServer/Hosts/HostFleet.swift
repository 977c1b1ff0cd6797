import Foundation
import Logging
import NIOConcurrencyHelpers
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayKubernetes
import SlipwayPlatform
import SlipwayProxy

/// The hosts the config's apps run on, as the controller uses them: for each, a shared SSH connection, the platform
/// that runs instances there, and the link to its data plane.
final class HostFleet: Sendable {
    /// One host in use.
    struct Member: Sendable {
        var spec: HostSpec
        var platform: SSHPlatform
        var dataPlane: HostDataPlaneLink
    }

    /// The hosts apps run on, in the order the file declares them.
    let members: [Member]
    /// App name → the names of its hosts, for the apps that run on hosts.
    let placement: [String: [String]]
    private let logger: Logger
    /// Where the commands that change a host are reported, once the controller records events.
    private let reporter = NIOLockedValueBox<(@Sendable (RemoteCommand) -> Void)?>(nil)
    /// The hosts that could not be reached when the controller started, until each is made ready; and what the data
    /// plane links found, for those made ready later.
    private let late = NIOLockedValueBox<LateHosts>(LateHosts())

    private struct LateHosts {
        var waiting: Set<String> = []
        var observe: (@Sendable (String, EventKind, [String: JSONValue]) -> Void)?
        /// This build's programs, as read at start.
        var binaries: [HostBinary] = []
    }

    /// `body` on every one of `members` at once; the results in the order of `members`.
    private static func onEach<T: Sendable>(
        _ members: [Member],
        _ body: @escaping @Sendable (Member) async -> T
    ) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask { (index, await body(member)) }
            }
            var results: [(Int, T)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The hosts of `config`'s apps (none when every app runs on this machine). The tunnels' local ends go in
    /// `<stateDirectory>/hosts/`.
    init(config: SlipwayConfig, threads: Int, logFormat: LogFormat, logger: Logger) throws(Controller.StartError) {
        self.logger = logger
        var placement: [String: [String]] = [:]
        for app in config.apps where !app.hosts.isEmpty { placement[app.name] = app.hosts }
        self.placement = placement
        let used = Set(placement.values.flatMap { $0 })
        let hosts = config.hosts.filter { used.contains($0.name) }
        guard !hosts.isEmpty else {
            self.members = []
            return
        }
        let controlDirectory: String
        do {
            controlDirectory = try SSHClient.defaultControlDirectory()
        } catch {
            throw .config([
                ConfigDiagnostic(file: config.file, location: .unknown, keyPath: "hosts", message: "\(error)")
            ])
        }
        let directory = config.controller.stateDirectory + "/hosts"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var members: [Member] = []
        for host in hosts {
            guard HostDataPlaneLink.fits(directory: directory, host: host.name) else {
                throw .config([
                    ConfigDiagnostic(
                        file: config.file,
                        location: config.controller.location,
                        keyPath: "controller.stateDir",
                        message: "\(directory)/\(host.name).sock is too long for a Unix socket (at most 107 bytes); "
                            + "use a shorter stateDir"
                    )
                ])
            }
            let reporter = self.reporter
            let client = SSHClient(
                host: host,
                controlDirectory: controlDirectory,
                report: { command in reporter.withLockedValue { $0 }?(command) }
            )
            members.append(
                Member(
                    spec: host,
                    platform: SSHPlatform(client: client, logger: logger),
                    dataPlane: HostDataPlaneLink(
                        host: host,
                        ssh: client,
                        directory: directory,
                        threads: threads,
                        logFormat: logFormat,
                        logger: logger
                    )
                )
            )
        }
        self.members = members
    }

    /// Records every command that changes a host from now on, as a `remoteCommand` event: of the instance's app for
    /// a command about an instance, else of every app on the host.
    func recordRemoteCommands(with recorder: EventRecorder) {
        let placement = self.placement
        reporter.withLockedValue {
            $0 = { command in
                let fields: [String: JSONValue] = [
                    "host": .string(command.host),
                    "action": .string(command.action),
                    "command": .array(command.words.map(JSONValue.string)),
                    "outcome": .string(command.outcome),
                    "succeeded": .bool(command.succeeded),
                    "tookMs": .int(Int(command.duration.milliseconds)),
                ]
                if let instance = command.instance {
                    recorder.record(Event(app: instance.app, kind: .remoteCommand, instance: instance, fields: fields))
                    return
                }
                for (app, hosts) in placement.sorted(by: { $0.key < $1.key }) where hosts.contains(command.host) {
                    recorder.record(Event(app: app, kind: .remoteCommand, fields: fields))
                }
            }
        }
    }

    /// Whether any app runs on hosts.
    var isEmpty: Bool { members.isEmpty }

    /// Puts this build's programs on every host (only what is missing or different), then starts or attaches to each
    /// host's data plane. `observe` is told what each data plane link finds, then and later.
    ///
    /// A host that SSH cannot reach now is left for later: the names of those, with SSH's reason, are returned, and
    /// each is made ready by ``watch(timeline:placed:recorder:executors:)`` once it answers. Any other failure (a
    /// host that answers but cannot be given its programs or its data plane) is an error.
    func prepare(
        observe: @escaping @Sendable (String, EventKind, [String: JSONValue]) -> Void
    ) async throws -> [(host: String, reason: String)] {
        guard !members.isEmpty else { return [] }
        let binaries = try await HostBinary.bundled()
        let looks = await Self.onEach(members) { member -> String? in
            let look = await member.platform.client.run(["true"], timeout: HostWatch.lookTimeout)
            return look.succeeded ? nil : HostProbe.problem(in: look)
        }
        let unreachable = zip(members, looks).compactMap { member, problem in
            problem.map { (host: member.spec.name, reason: $0) }
        }
        let reachable = zip(members, looks).filter { $0.1 == nil }.map(\.0)
        for (member, problem) in zip(members, looks) where problem != nil { member.dataPlane.removeStaleEnd() }
        late.withLockedValue {
            $0.waiting = Set(unreachable.map(\.host))
            $0.observe = observe
            $0.binaries = binaries
        }
        let reports = await Self.onEach(reachable) { member in
            await HostInstaller.install(binaries, with: member.platform.client, timeout: .seconds(300))
        }
        let failed = reports.filter { !$0.installed }
        guard failed.isEmpty else {
            throw HostFleetError(
                "cannot put this build's programs on every host: "
                    + failed.map { "\($0.name): \($0.problem ?? "not installed")" }.joined(separator: "; ")
            )
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in reachable {
                group.addTask {
                    try await member.dataPlane.connect { kind, fields in observe(member.spec.name, kind, fields) }
                }
            }
            try await group.waitForAll()
        }
        return unreachable
    }

    /// Makes ready a host that could not be reached when the controller started and answers now: its programs, its
    /// data plane (which gets the listeners and routes in force), then the instances an earlier controller left
    /// there that this one does not know of are stopped. Whether the host is ready; true for any other host.
    private func ready(
        _ name: String,
        placed: PlacedPlatform,
        recorder: EventRecorder,
        executors: [String: AppExecutor]
    ) async -> Bool {
        let (waiting, observe, binaries) = late.withLockedValue { ($0.waiting.contains(name), $0.observe, $0.binaries) }
        guard waiting, let member = members.first(where: { $0.spec.name == name }), let observe else { return true }
        do {
            let report = await HostInstaller.install(binaries, with: member.platform.client, timeout: .seconds(300))
            guard report.installed else {
                throw HostFleetError("cannot put this build's programs there: \(report.problem ?? "not installed")")
            }
            try await member.dataPlane.connect { kind, fields in observe(name, kind, fields) }
        } catch {
            logger.warning("\(name) answers again but cannot be made ready yet: \(error)")
            return false
        }
        late.withLockedValue { _ = $0.waiting.remove(name) }
        let reason = "left running on \(name) by an earlier controller while \(name) could not be reached"
        for (app, hosts) in placement.sorted(by: { $0.key < $1.key }) where hosts.contains(name) {
            // Only what this controller placed there stays (an instance number may have been given again elsewhere).
            let known = (await executors[app]?.knownInstances ?? []).filter { placed.place(of: $0) == name }
            let reclaimed = await placed.reclaim(app: app, on: [name], keeping: known)
            for event in reclaimed.events(app: app, reason: reason) { recorder.record(event) }
        }
        return true
    }

    /// Cuts the controller off `host` for `reason` (chaos), as a network partition would: no command reaches it, its
    /// shared connection and its data plane's tunnel end. Nil lets commands reach it again (the watch then finds it
    /// back). Whether the host is one of the fleet's.
    @discardableResult
    func cutOff(_ host: String, reason: String?) async -> Bool {
        guard let member = members.first(where: { $0.spec.name == host }) else { return false }
        guard let reason else {
            member.platform.client.cutOff.end()
            return true
        }
        member.platform.client.cutOff.begin(reason)
        member.dataPlane.dropTunnel()
        await member.platform.client.closeSharedConnection()
        return true
    }

    /// Freezes (`SIGSTOP`) or lets go (`SIGCONT`) the data plane and instances on `host` (``HostFreeze``), whether or
    /// not the controller is cut off from it: how many processes were signalled.
    func freeze(_ host: String, _ freeze: Bool) async -> Result<Int, HostFreezeError> {
        guard let member = members.first(where: { $0.spec.name == host }) else {
            return .failure(HostFreezeError(description: "no host named \"\(host)\" runs an app"))
        }
        var client = member.platform.client
        client.cutOff = HostCutOff()
        return await HostFreeze.signal(
            freeze: freeze,
            with: client,
            dataPlanePidFile: member.dataPlane.launcher.pidFile
        )
    }

    /// The platform of every app's instances: `local` for the apps on this machine, `kubernetes` for those on the
    /// cluster, the hosts' for the others.
    func platform(local: LocalPlatform, kubernetes: KubernetesPlatform? = nil, apps: [AppSpec]) -> PlacedPlatform {
        var platforms = Dictionary(uniqueKeysWithValues: members.map { ($0.spec.name, $0.platform as any Platform) })
        platforms[PlacedPlatform.thisMachine] = local
        if let kubernetes { platforms[KubernetesSetup.place] = kubernetes }
        return PlacedPlatform(
            platforms: platforms,
            placement: Dictionary(
                uniqueKeysWithValues: apps.map { app in
                    let places =
                        app.kubernetes != nil
                        ? [KubernetesSetup.place] : app.hosts.isEmpty ? [PlacedPlatform.thisMachine] : app.hosts
                    return (app.name, places)
                }
            )
        )
    }

    /// Stops the data plane of every host that runs one, with no controller attached: the pid of each one stopped,
    /// or why it could not be.
    func stopDataPlanes() async -> [(host: String, result: Result<Int32?, HostDataPlaneError>)] {
        let results = await Self.onEach(members) { member -> Result<Int32?, HostDataPlaneError> in
            do throws(HostDataPlaneError) {
                return .success(try await member.dataPlane.launcher.stopRunning())
            } catch {
                return .failure(error)
            }
        }
        return zip(members, results).map { ($0.spec.name, $1) }
    }

    /// Closes the shared SSH connections.
    func closeConnections() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members { group.addTask { await member.platform.client.closeSharedConnection() } }
        }
    }

    /// The hosts' data planes, for the router.
    var routers: [PlacedRouter.Member] {
        members.map {
            PlacedRouter.Member(
                name: $0.spec.name,
                router: $0.dataPlane.client,
                stateDirectory: $0.spec.directory + "/state"
            )
        }
    }

    /// Watches every host until cancelled. A host lost or back is recorded (`hostUnreachable`, `hostReachable`) for
    /// each app on it, `placed` places instances accordingly, and each app's executor is told.
    func watch(
        timeline: Timeline,
        placed: PlacedPlatform,
        recorder: EventRecorder,
        executors: [String: AppExecutor]
    ) async {
        let placement = self.placement
        await HostWatch(
            clients: members.map(\.platform.client),
            timeline: timeline,
            policy: HostReachability.Policy(),
            lostAtStart: late.withLockedValue { $0.waiting },
            changed: { [self] host, change in
                let (kind, fields, reachable): (EventKind, [String: JSONValue], Bool)
                switch change {
                case .lost(let reason):
                    (kind, fields, reachable) = (.hostUnreachable, ["reason": .string(reason)], false)
                case .back(let after):
                    guard await ready(host, placed: placed, recorder: recorder, executors: executors) else {
                        return false
                    }
                    (kind, fields, reachable) = (
                        .hostReachable, ["unreachableForMs": .int(Int(after.milliseconds))], true
                    )
                }
                placed.setReachable(host, reachable)
                for (app, hosts) in placement.sorted(by: { $0.key < $1.key }) where hosts.contains(host) {
                    recorder.record(Event(app: app, kind: kind, fields: fields.merging(["host": .string(host)]) { $1 }))
                    if reachable {
                        await executors[app]?.hostReachable(host)
                    } else {
                        await executors[app]?.hostUnreachable(host)
                    }
                }
                return true
            }
        ).run()
    }

    /// Leaves every host's data plane serving without this controller, and closes the shared connections.
    func detach() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                group.addTask {
                    await member.dataPlane.detach()
                    await member.platform.client.closeSharedConnection()
                }
            }
        }
    }

    /// Stops every host's data plane, and closes the shared connections.
    func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for member in members {
                group.addTask {
                    await member.dataPlane.shutdown()
                    await member.platform.client.closeSharedConnection()
                }
            }
        }
    }
}

/// The hosts could not be made ready.
struct HostFleetError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
