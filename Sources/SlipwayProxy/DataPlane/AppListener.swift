import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayCore

#if canImport(Glibc)
import Glibc
#endif

/// What every connection of one app's listener shares. Sendable: immutable, or atomic.
final class ListenerCore: Sendable {
    let app: String
    let settings: ProxySettings
    let routes: ManagedAtomic<AppRoutes>
    /// The faults injected into its requests (``FaultSet/none`` almost always).
    let faults = ManagedAtomic(FaultSet.none)
    let book: TrafficBook
    let connections = ManagedAtomic<Int>(0)
    /// Set once the listener hands over or shuts down: each connection ends after its current response, and one
    /// that stays idle for ``quiesceGrace`` is closed.
    let quiescing = ManagedAtomic<Bool>(false)
    /// How long an idle keep-alive connection may still send its next request (answered with `Connection: close`)
    /// once quiescing began. Busy clients end cleanly within it; only one idle that long is closed under it.
    static let quiesceGrace = TimeAmount.seconds(2)
    /// The open client connections, told when the listener begins quiescing. Touched once per connection, never
    /// per request.
    let open = NIOLockedValueBox([ObjectIdentifier: any Channel]())
    private let loops: [ObjectIdentifier: LoopConfined]
    let eventLoops: [any EventLoop]
    /// The access log, when the settings ask for one.
    let accessLog: AccessLog?
    /// Distributed tracing of the requests, when the data plane exports traces.
    let tracing: RequestTracing?
    /// Each loop's periodic hand-over of its access log lines.
    private let flushes: NIOLockedValueBox<[RepeatedTask]>
    /// Outlier detection, when the settings ask for it.
    let outliers: OutlierGuard?
    /// The waiting room, when the settings ask for one.
    let waitingRoom: WaitingRoomGuard?

    init(app: String, settings: ProxySettings, group: any EventLoopGroup, tracing: RequestTracing? = nil) throws {
        self.app = app
        self.settings = settings
        self.tracing = tracing
        self.accessLog = try settings.accessLog.map(AccessLog.init)
        let eventLoops = Array(group.makeIterator())
        self.eventLoops = eventLoops
        self.book = TrafficBook(app: app, loops: eventLoops)
        let routes = ManagedAtomic(AppRoutes(table: .empty, book: book))
        self.routes = routes
        self.outliers = settings.outliers.map { OutlierGuard(settings: $0, loop: eventLoops[0]) }
        self.waitingRoom = settings.waitingRoom.map { room in
            WaitingRoomGuard(settings: room, loop: eventLoops[0]) {
                routes.load(ordering: .relaxed).table.instances.filter { $0.weight > 0 && !$0.isEjected }.count
            }
        }
        var loops: [ObjectIdentifier: LoopConfined] = [:]
        for (index, loop) in eventLoops.enumerated() {
            loops[ObjectIdentifier(loop)] = LoopConfined(
                resources: LoopResources(index: index, eventLoop: loop, settings: settings, loops: eventLoops.count)
            )
        }
        self.loops = loops
        var flushes: [RepeatedTask] = []
        if let accessLog {
            for loop in eventLoops {
                let resources = loops[ObjectIdentifier(loop)]!
                flushes.append(
                    loop.scheduleRepeatedTask(initialDelay: AccessLog.flushInterval, delay: AccessLog.flushInterval) {
                        _ in resources.resources.flushAccessLines(to: accessLog)
                    }
                )
            }
        }
        self.flushes = NIOLockedValueBox(flushes)
    }

    /// Stops the periodic flushes and writes every line still buffered; for when the listener has stopped serving.
    func closeAccessLog() async {
        guard let accessLog else { return }
        for task in flushes.withLockedValue({ tasks in
            defer { tasks = [] }
            return tasks
        }) { task.cancel() }
        for loop in eventLoops {
            let core = self
            try? await loop.submit { core.resources(on: loop).flushAccessLines(to: accessLog) }.get()
        }
        accessLog.drain()
    }

    /// Adds a ``ClientConnection``, the only handler, to a new client channel (on its event loop).
    func configure(_ channel: any Channel) throws {
        let handler = ClientConnection(core: self, loop: resources(on: channel.eventLoop))
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// The resources of the loop the caller runs on.
    func resources(on loop: any EventLoop) -> LoopResources {
        loop.assertInEventLoop()
        return loops[ObjectIdentifier(loop)]!.resources
    }
}

/// Resources made before any loop runs a connection, and from then on touched only on their own loop (checked by
/// ``ListenerCore/resources(on:)``), which is what makes sharing the reference safe.
private struct LoopConfined: @unchecked Sendable {
    let resources: LoopResources
}

/// One app's listener: the address users hit, forwarding each request to an instance chosen by the current
/// route table.
///
/// Everything per request runs on the event loops, with no Swift-concurrency hop; the controller changes routing
/// with ``update(_:)``, which swaps the table atomically.
public final class AppListener: Sendable {
    /// The app served.
    public let app: String
    private let core: ListenerCore
    private let serverChannel: any Channel
    /// The listening socket, valid until ``close()`` or ``quiesce(within:)``: what a hand-over passes on.
    public let descriptor: NIOBSDSocket.Handle

    private init(
        core: ListenerCore,
        serverChannel: any Channel,
        descriptor: NIOBSDSocket.Handle
    ) {
        self.app = core.app
        self.core = core
        self.serverChannel = serverChannel
        self.descriptor = descriptor
    }

    /// Starts listening on `host:port` (port 0: any free port) with the group's event loops.
    public static func bind(
        app: String,
        host: String,
        port: Int,
        settings: ProxySettings,
        group: any EventLoopGroup,
        tracing: RequestTracing? = nil
    ) async throws -> AppListener {
        let socket = try ListeningSocket.open(host: host, port: port)
        do {
            return try await adopt(app: app, socket: socket, settings: settings, group: group, tracing: tracing)
        } catch {
            Glibc.close(socket)
            throw error
        }
    }

    /// Serves on a socket that is already bound and listening, such as one handed over by the data plane this one
    /// replaces. From then on the listener owns it.
    public static func adopt(
        app: String,
        socket: NIOBSDSocket.Handle,
        settings: ProxySettings,
        group: any EventLoopGroup,
        tracing: RequestTracing? = nil
    ) async throws -> AppListener {
        let core = try ListenerCore(app: app, settings: settings, group: group, tracing: tracing)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { channel in
                let count = core.connections.wrappingIncrementThenLoad(ordering: .relaxed)
                let key = ObjectIdentifier(channel)
                core.open.withLockedValue { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in
                    core.open.withLockedValue { _ = $0.removeValue(forKey: key) }
                    core.connections.wrappingDecrement(ordering: .relaxed)
                }
                guard count <= core.settings.maxConnections else {
                    return channel.close()
                }
                do {
                    try core.configure(channel)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .withBoundSocket(socket)
            .get()
        core.outliers?.start()
        core.waitingRoom?.start()
        return AppListener(core: core, serverChannel: channel, descriptor: socket)
    }

    /// The port the listener is bound to.
    public var port: Int { serverChannel.localAddress?.port ?? 0 }

    /// Whether the listening socket is still open.
    public var isListening: Bool { serverChannel.isActive }

    /// The route table in force.
    public var table: RouteTable { core.routes.load(ordering: .acquiring).table }

    /// Client connections open now.
    public var openConnections: Int { core.connections.load(ordering: .relaxed) }

    /// Replaces the route table. Instances no longer in it take no new request; ``drain(_:timeout:)`` waits for
    /// their in-flight requests.
    public func update(_ table: RouteTable) {
        core.routes.store(AppRoutes(table: table, book: core.book), ordering: .releasing)
        core.book.routed(Set(table.instances.map(\.id)))
        core.outliers?.routed(table)
    }

    /// Replaces the faults injected into the listener's requests; the next request sees the new set. A fault kept
    /// from the current set (the same spec) keeps its count of requests affected. Nothing changes when one is
    /// invalid.
    public func setFaults(_ specs: [FaultSpec], wallNowMs: Int64) throws(FaultSpecError) {
        let current = core.faults.load(ordering: .acquiring).faults
        let now = NIODeadline.now()
        var ids = Set<String>()
        var compiled: [ProxyFault] = []
        for (index, spec) in specs.enumerated() {
            guard ids.insert(spec.id).inserted else {
                throw FaultSpecError("faults[\(index)].id: \"\(spec.id)\" is used twice")
            }
            if let kept = current.first(where: { $0.spec == spec }) {
                compiled.append(kept)
                continue
            }
            do {
                compiled.append(try ProxyFault(spec, wallNowMs: wallNowMs, now: now))
            } catch {
                throw FaultSpecError("faults[\(index)].\(error.description)")
            }
        }
        core.faults.store(FaultSet(compiled), ordering: .releasing)
    }

    /// The faults in force and what each did so far.
    public var faults: [FaultStatus] {
        let now = NIODeadline.now()
        return core.faults.load(ordering: .acquiring).faults.map { fault in
            var status = fault.status
            status.active = fault.isActive(at: now)
            return status
        }
    }

    /// Waits until `instances` have no request in flight, or `timeout` passes, then closes their idle pooled
    /// connections on every loop. Returns the ids of instances still busy at the timeout.
    public func drain(_ instances: [UpstreamInstance], timeout: Duration) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        while instances.contains(where: { $0.inFlight > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let keys = Set(instances.map(ObjectIdentifier.init))
        for loop in core.eventLoops {
            let core = self.core
            try? await loop.submit { core.resources(on: loop).retire(keys) }.get()
        }
        return instances.filter { $0.inFlight > 0 }.map(\.id)
    }

    /// The request targets (path and query, as received) of the latest GET requests an instance answered with a
    /// 2xx or 3xx status, newest first: at most `limit`, and at most ``ProxySettings/replayBufferSize``. Each event
    /// loop keeps its own ring; this merges them by the time each response head arrived.
    public func recentRequests(limit: Int) async -> [String] {
        let limit = min(limit, core.settings.replayBufferSize)
        guard limit > 0 else { return [] }
        var entries: [RecentRequests.Entry] = []
        for loop in core.eventLoops {
            let core = self.core
            let newest = try? await loop.submit { core.resources(on: loop).recentRequests.newest(limit) }.get()
            entries += newest ?? []
        }
        entries.sort { $0.time > $1.time }
        return entries.prefix(limit).map(\.target)
    }

    /// The requests answered 5xx that ended after `after` (nanoseconds since 1970), oldest first, at most `limit`
    /// (the oldest ones beyond it are left out). Each event loop keeps its latest
    /// ``LoopResources/failedRequestCapacity``.
    public func failedRequests(after: Int64, limit: Int) async -> [FailedRequest] {
        guard limit > 0 else { return [] }
        var entries: [FailedRequest] = []
        for loop in core.eventLoops {
            let core = self.core
            entries += (try? await loop.submit { core.resources(on: loop).failedRequests.since(after) }.get()) ?? []
        }
        entries.sort { $0.timeNs < $1.timeNs }
        return Array(entries.suffix(limit))
    }

    /// Who outlier detection holds out now, and what it did lately.
    public var outliers: OutlierState {
        core.outliers?.current ?? OutlierState()
    }

    /// Cumulative traffic per version and instance (instances no route has named for
    /// ``TrafficBook/instanceRetention`` are no longer reported).
    public func sample() async -> AppTrafficSample {
        core.book.routed(Set(table.instances.map(\.id)))
        var sample = await core.book.sample()
        sample.outliers = outliers
        sample.waitingRoom = core.waitingRoom?.current
        return sample
    }

    /// Stops accepting connections and closes the listener.
    public func close() async throws {
        core.outliers?.stop()
        core.waitingRoom?.stop()
        do {
            try await serverChannel.close()
        } catch {
            await core.closeAccessLog()
            throw error
        }
        await core.closeAccessLog()
    }

    /// Stops accepting connections (a data plane that took the socket over goes on accepting on it), lets each open
    /// connection finish its request in flight and end, and returns once all have ended or `limit` has passed.
    /// Returns the number of connections still open then.
    public func quiesce(within limit: Duration) async -> Int {
        core.quiescing.store(true, ordering: .relaxed)
        try? await serverChannel.close()
        for channel in core.open.withLockedValue({ Array($0.values) }) {
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        }
        let deadline = ContinuousClock.now + limit
        while core.connections.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await core.closeAccessLog()
        return core.connections.load(ordering: .relaxed)
    }
}
