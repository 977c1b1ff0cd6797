import NIOCore
import SlipwayCore

/// The data plane: every listener of a state directory, the routes each obeys, and their traffic.
///
/// Run in a process of its own (`slipway-dataplane`, driven over ``ControlServer``) it outlives the controller; it
/// can also run inside the caller's process, where it is the ``TrafficRouter`` itself. Every change is written to
/// its state file before it is acknowledged.
public actor DataPlane: TrafficRouter {
    private struct Served {
        var listener: AppListener
        /// As asked for, with the port actually bound.
        var listen: ListenerSpec
        var routes: RouteSpec
        /// The faults injected into its requests.
        var faults: [FaultSpec] = []
        /// Instances by id, kept while named by the routes and until drained, so their in-flight counts and
        /// weights survive route updates.
        var upstreams: [String: UpstreamInstance] = [:]
        var ramps: [String: Task<Void, Never>] = [:]
    }

    private let group: any EventLoopGroup
    private let stateFile: String?
    /// Distributed tracing of every listener's requests; nil traces none.
    private let tracing: RequestTracing?
    private var served: [String: Served] = [:]
    /// Set once the listeners were handed over: the state file is the new data plane's from then on.
    private var handedOver = false

    /// A data plane whose listeners run on `group`, keeping its state in `stateFile` (nil: nowhere), tracing requests
    /// with `tracing` when given.
    public init(group: any EventLoopGroup, stateFile: String?, tracing: RequestTracing? = nil) {
        self.group = group
        self.stateFile = stateFile
        self.tracing = tracing
    }

    /// The names of the listeners open now.
    public var names: [String] { served.keys.sorted() }

    /// Binds every listener of the state file with its routes. Returns what could not be restored, one line each;
    /// a listener whose routes are unusable is bound with no routes (503 with `Retry-After`), and a state file that
    /// cannot be read restores nothing and is left for a person to look at.
    public func restore() async -> [String] {
        guard let stateFile else { return [] }
        let state: DataPlaneState
        do {
            state = try DataPlaneState.load(stateFile)
        } catch {
            return ["\(error); serving nothing until a controller sets routes"]
        }
        return await restore(state, sockets: [:])
    }

    /// Serves `state`, on the given listening sockets where there are some (a hand-over), binding the rest.
    func restore(_ state: DataPlaneState, sockets: [String: NIOBSDSocket.Handle]) async -> [String] {
        var problems: [String] = []
        for (name, entry) in state.listeners.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try await bind(name, entry.listen, socket: sockets[name])
            } catch {
                problems.append("listener \(name) on \(entry.listen.host):\(entry.listen.port): \(error)")
                continue
            }
            do {
                try apply(name, entry.routes, rampNew: false)
            } catch {
                problems.append("routes of \(name): \(error); answering 503 until a controller sets routes")
            }
            let now = FailedRequest.now() / 1_000_000
            let faults = (entry.faults ?? []).filter { $0.expiresAtMs > now }
            do {
                try setFaults(name, faults, persisting: false)
            } catch {
                problems.append("faults of \(name): \(error); injecting none")
            }
        }
        persist()
        return problems
    }

    public func open(_ name: String, _ spec: ListenerSpec) async throws -> Int {
        if let existing = served[name] {
            if spec.isServed(by: existing.listen) { return existing.listen.port }
            try await close(name)
        }
        let port = try await bind(name, spec, socket: nil)
        persist()
        return port
    }

    private func bind(_ name: String, _ spec: ListenerSpec, socket: NIOBSDSocket.Handle?) async throws -> Int {
        let listener: AppListener
        if let socket {
            listener = try await AppListener.adopt(
                app: name,
                socket: socket,
                settings: spec.settings,
                group: group,
                tracing: tracing
            )
        } else {
            listener = try await AppListener.bind(
                app: name,
                host: spec.host,
                port: spec.port,
                settings: spec.settings,
                group: group,
                tracing: tracing
            )
        }
        var bound = spec
        bound.port = listener.port
        served[name] = Served(listener: listener, listen: bound, routes: .empty)
        return listener.port
    }

    public func close(_ name: String) async throws {
        guard let entry = served.removeValue(forKey: name) else { return }
        for ramp in entry.ramps.values { ramp.cancel() }
        persist()
        try await entry.listener.close()
    }

    public func setRoutes(_ name: String, _ routes: RouteSpec) throws {
        try apply(name, routes, rampNew: true)
        persist()
    }

    private func apply(_ name: String, _ routes: RouteSpec, rampNew: Bool) throws {
        guard var entry = served[name] else { throw UnknownListener(name: name) }
        var versions: [VersionRoute] = []
        var fresh: [(UpstreamInstance, Int)] = []
        var upstreams = entry.upstreams
        for version in routes.versions {
            var instances: [UpstreamInstance] = []
            for instance in version.instances {
                if let known = upstreams[instance.id], known.host == instance.host, known.port == instance.port,
                    known.version == version.version
                {
                    instances.append(known)
                    continue
                }
                let upstream = try UpstreamInstance(
                    id: instance.id,
                    version: version.version,
                    host: instance.host,
                    port: instance.port
                )
                upstreams[instance.id] = upstream
                instances.append(upstream)
                if rampNew, let slowStart = instance.slowStartMs, slowStart > 0 { fresh.append((upstream, slowStart)) }
            }
            versions.append(VersionRoute(version: version.version, weight: version.weight, instances: instances))
        }
        let table = try RouteTable(
            versions: versions,
            rules: try routes.matchRules(),
            stickiness: try routes.tableStickiness(),
            mirror: routes.mirror?.tableMirror
        )
        for (upstream, milliseconds) in fresh {
            upstream.setWeight(SlowStartRamp.startWeight)
            entry.ramps[upstream.id]?.cancel()
            entry.ramps[upstream.id] = Task { await SlowStartRamp.run(upstream, over: .milliseconds(milliseconds)) }
        }
        entry.upstreams = upstreams
        entry.routes = routes
        served[name] = entry
        entry.listener.update(table)
    }

    public func routes(_ name: String) -> RouteSpec? {
        served[name]?.routes
    }

    public func setFaults(_ name: String, _ faults: [FaultSpec]) throws {
        try setFaults(name, faults, persisting: true)
    }

    private func setFaults(_ name: String, _ faults: [FaultSpec], persisting: Bool) throws {
        guard var entry = served[name] else { throw UnknownListener(name: name) }
        try entry.listener.setFaults(faults, wallNowMs: FailedRequest.now() / 1_000_000)
        entry.faults = faults
        served[name] = entry
        if persisting { persist() }
    }

    public func faults(_ name: String) throws -> [FaultStatus] {
        guard let entry = served[name] else { throw UnknownListener(name: name) }
        return entry.listener.faults
    }

    public func drain(_ name: String, instances ids: [String], timeout: Duration) async throws -> [String] {
        guard let entry = served[name] else { throw UnknownListener(name: name) }
        let named = Set(entry.routes.instanceIDs)
        let leaving = ids.compactMap { named.contains($0) ? nil : entry.upstreams[$0] }
        let busy = await entry.listener.drain(leaving, timeout: timeout)
        // Routes may have named an instance again while it drained; only the ones still out are forgotten.
        if var current = served[name] {
            let stillNamed = Set(current.routes.instanceIDs)
            for upstream in leaving where !stillNamed.contains(upstream.id) {
                current.upstreams.removeValue(forKey: upstream.id)
                current.ramps.removeValue(forKey: upstream.id)?.cancel()
            }
            served[name] = current
        }
        return busy
    }

    public func sample(_ name: String) async throws -> AppTrafficSample {
        guard let listener = served[name]?.listener else { throw UnknownListener(name: name) }
        return await listener.sample()
    }

    public func recentRequests(_ name: String, limit: Int) async throws -> [String] {
        guard let listener = served[name]?.listener else { throw UnknownListener(name: name) }
        return await listener.recentRequests(limit: limit)
    }

    public func failedRequests(_ name: String, after: Int64, limit: Int) async throws -> [FailedRequest] {
        guard let listener = served[name]?.listener else { throw UnknownListener(name: name) }
        return await listener.failedRequests(after: after, limit: limit)
    }

    /// The listener `name` itself, in this process.
    public func listener(_ name: String) -> AppListener? {
        served[name]?.listener
    }

    /// Where each listener is bound.
    public var bound: [String: ListenerSpec] { served.mapValues(\.listen) }

    /// Stops accepting on every listener, then lets their open connections finish (at most `limit`).
    public func shutdown(within limit: Duration) async {
        let listeners = served.values.map(\.listener)
        for entry in served.values { for ramp in entry.ramps.values { ramp.cancel() } }
        served.removeAll()
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners { group.addTask { _ = await listener.quiesce(within: limit) } }
        }
    }

    /// What a hand-over sends: the state and each listener's socket.
    func handOverParcel() -> (DataPlaneState, [(name: String, fd: Int32)]) {
        (currentState, served.sorted { $0.key < $1.key }.map { ($0.key, $0.value.listener.descriptor) })
    }

    /// After a hand-over: stops accepting (the new data plane accepts on the same sockets) and lets open connections
    /// finish, within `limit`. Nothing is written to the state file any more.
    public func quiesceAfterHandOver(within limit: Duration) async {
        handedOver = true
        let listeners = served.values.map(\.listener)
        for entry in served.values { for ramp in entry.ramps.values { ramp.cancel() } }
        await withTaskGroup(of: Void.self) { group in
            for listener in listeners { group.addTask { _ = await listener.quiesce(within: limit) } }
        }
    }

    private var currentState: DataPlaneState {
        var state = DataPlaneState()
        for (name, entry) in served {
            state.listeners[name] = DataPlaneState.Listener(
                listen: entry.listen,
                routes: entry.routes,
                faults: entry.faults.isEmpty ? nil : entry.faults
            )
        }
        return state
    }

    private func persist() {
        guard let stateFile, !handedOver else { return }
        do {
            try currentState.save(stateFile)
        } catch {
            // Serving goes on from memory; only a restart alone would come back with older routes.
            print("slipway-dataplane: cannot save route state: \(error)")
        }
    }
}
