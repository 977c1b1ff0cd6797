import NIOCore
import NIOExtras
import NIOPosix
import SlipwayCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Drives a data plane in another process over its control socket.
///
/// It remembers every listener it opened (or was asked to open at a fixed port while it could not reach the data
/// plane) and the last routes it set, and sets them again whenever it connects anew, so a data plane that was
/// restarted (and came back with its saved routes, or without them), or reached for the first time late, ends up
/// serving exactly what the controller last decided.
public actor DataPlaneClient: TrafficRouter {
    /// The control socket cannot be reached, or the data plane refused the connection.
    public struct Unreachable: Error, CustomStringConvertible {
        /// Why.
        public var description: String
    }

    /// The data plane answered with an error; nothing changed.
    public struct Refused: Error, CustomStringConvertible {
        /// Its message.
        public var description: String
    }

    private typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// The control socket's path.
    public let path: String
    private let group: any EventLoopGroup
    private var writer: NIOAsyncChannelOutboundWriter<ByteBuffer>?
    private var channel: (any Channel)?
    private var reader: Task<Void, Never>?
    private var pending: [Int: CheckedContinuation<ControlResponse, any Error>] = [:]
    /// Requests sent and not answered yet, and answers that came before their sender waited for them.
    private var awaited: Set<Int> = []
    private var early: [Int: ControlResponse] = [:]
    private var nextID = 1
    /// Counts connections, so that the end of an old one is not taken for the end of the current one.
    private var generation = 0
    private var opened: [String: ListenerSpec] = [:]
    private var lastRoutes: [String: RouteSpec] = [:]
    private var lost: (@Sendable () -> Void)?
    /// The data plane's status as its greeting gave it.
    public private(set) var greeting: DataPlaneStatus?

    /// A client of the control socket at `path`; nothing is connected yet.
    public init(path: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.path = path
        self.group = group
    }

    /// Calls `handler` (once per connection) when the data plane goes away.
    public func onLost(_ handler: @escaping @Sendable () -> Void) {
        lost = handler
    }

    /// Whether a connection is open.
    public var isConnected: Bool { writer != nil }

    /// Connects and greets; then sets again what this client opened and routed before.
    @discardableResult
    public func connect() async throws -> DataPlaneStatus {
        disconnect()
        let connection: Connection
        do {
            connection = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw Unreachable(description: "cannot connect to the data plane at \(path): \(error)")
        }
        let (writers, handOut) = AsyncStream<NIOAsyncChannelOutboundWriter<ByteBuffer>>.makeStream()
        channel = connection.channel
        generation += 1
        let generation = self.generation
        reader = Task { [weak self] in
            try? await connection.executeThenClose { inbound, outbound in
                handOut.yield(outbound)
                handOut.finish()
                for try await line in inbound {
                    guard
                        let response = try? JSONDecoder().decode(
                            ControlResponse.self,
                            from: Data(line.readableBytesView)
                        )
                    else { continue }
                    await self?.deliver(response)
                }
            }
            handOut.finish()
            await self?.connectionEnded(generation)
        }
        var handed = writers.makeAsyncIterator()
        guard let outbound = await handed.next() else {
            throw Unreachable(description: "the data plane at \(path) closed the connection at once")
        }
        writer = outbound
        let hello = try await send(
            ControlRequest(id: 0, op: .hello, protocolVersion: ControlProtocol.version, build: SlipwayBuild.version)
        )
        guard let status = hello.status else { throw Unreachable(description: "the data plane sent no greeting") }
        greeting = status
        for (name, spec) in opened.sorted(by: { $0.key < $1.key }) {
            _ = try await request(ControlRequest(id: 0, op: .open, name: name, listen: spec))
            if let routes = lastRoutes[name] {
                _ = try await request(ControlRequest(id: 0, op: .setRoutes, name: name, routes: routes))
            }
        }
        return status
    }

    /// Closes the connection; the data plane goes on serving.
    public func disconnect() {
        reader?.cancel()
        reader = nil
        writer?.finish()
        writer = nil
        channel?.close(promise: nil)
        channel = nil
        failPending(Unreachable(description: "the connection to the data plane was closed"))
    }

    private func connectionEnded(_ ended: Int) {
        guard ended == generation, writer != nil else { return }
        writer = nil
        channel = nil
        failPending(Unreachable(description: "the data plane closed its control connection"))
        lost?()
    }

    private func failPending(_ error: any Error) {
        let waiting = pending
        pending.removeAll()
        awaited.removeAll()
        early.removeAll()
        for continuation in waiting.values { continuation.resume(throwing: error) }
    }

    private func deliver(_ response: ControlResponse) {
        if let continuation = pending.removeValue(forKey: response.id) {
            awaited.remove(response.id)
            continuation.resume(returning: response)
        } else if awaited.contains(response.id) {
            // Answered before its sender finished writing.
            early[response.id] = response
        }
    }

    /// Sends a request and waits for its answer; a refusal of the greeting is thrown as ``Unreachable``.
    ///
    /// Requests are written in the order callers reach this point, so route updates arrive in the order they were
    /// made; their answers may come in any order.
    private func send(_ request: ControlRequest) async throws -> ControlResponse {
        guard let writer else { throw Unreachable(description: "not connected to the data plane at \(path)") }
        var request = request
        request.id = nextID
        nextID += 1
        var line = try JSONEncoder().encode(request)
        line.append(UInt8(ascii: "\n"))
        let id = request.id
        awaited.insert(id)
        do {
            try await writer.write(ByteBuffer(bytes: line))
        } catch {
            awaited.remove(id)
            throw Unreachable(description: "cannot send to the data plane: \(error)")
        }
        let response: ControlResponse
        if let early = early.removeValue(forKey: id) {
            awaited.remove(id)
            response = early
        } else {
            response = try await withCheckedThrowingContinuation { continuation in
                pending[id] = continuation
            }
        }
        if let error = response.error {
            if request.op == .hello { throw Unreachable(description: error) }
            throw Refused(description: error)
        }
        return response
    }

    private func request(_ request: ControlRequest) async throws -> ControlResponse {
        if writer == nil { try await connect() }
        return try await send(request)
    }

    /// The data plane's status now.
    public func status() async throws -> DataPlaneStatus {
        guard let status = try await request(ControlRequest(id: 0, op: .status)).status else {
            throw Unreachable(description: "the data plane sent no status")
        }
        return status
    }

    /// Asks the data plane to close its listeners and exit.
    public func shutdown() async throws {
        opened.removeAll()
        lastRoutes.removeAll()
        _ = try await request(ControlRequest(id: 0, op: .shutdown))
    }

    /// Asks the data plane to hand its listening sockets to the hand-over socket at `path` (a newer data plane's),
    /// then finish its open connections and exit. Returns once the newer one serves them.
    public func handOver(to path: String) async throws {
        _ = try await request(ControlRequest(id: 0, op: .handOver, name: path))
    }

    /// A listener with a fixed port is remembered when the data plane cannot be reached now: the next connection
    /// opens it (the error is thrown all the same).
    public func open(_ name: String, _ spec: ListenerSpec) async throws -> Int {
        let response: ControlResponse
        do {
            response = try await request(ControlRequest(id: 0, op: .open, name: name, listen: spec))
        } catch let error as Unreachable {
            if spec.port != 0 { opened[name] = spec }
            throw error
        }
        guard let port = response.port else { throw Unreachable(description: "the data plane sent no port") }
        var bound = spec
        bound.port = port
        opened[name] = bound
        return port
    }

    public func close(_ name: String) async throws {
        opened.removeValue(forKey: name)
        lastRoutes.removeValue(forKey: name)
        _ = try await request(ControlRequest(id: 0, op: .close, name: name))
    }

    /// Remembered before it is sent: when the data plane cannot be reached now, the next connection sets it.
    public func setRoutes(_ name: String, _ routes: RouteSpec) async throws {
        lastRoutes[name] = routes
        _ = try await request(ControlRequest(id: 0, op: .setRoutes, name: name, routes: routes))
    }

    public func routes(_ name: String) async throws -> RouteSpec? {
        try await request(ControlRequest(id: 0, op: .routes, name: name)).routes
    }

    /// A data plane of a build without faults has none to remove, and is refused any to add (it would not know
    /// the operation) with a message saying how to get one that has them.
    public func setFaults(_ name: String, _ faults: [FaultSpec]) async throws {
        if writer == nil { try await connect() }
        guard greeting?.features?.contains("faults") == true else {
            if faults.isEmpty { return }
            throw Unreachable(
                description: "the data plane (Slipway \(greeting?.build ?? "?")) cannot inject faults; "
                    + "`slipway upgrade` replaces it with one of this build without dropping a request"
            )
        }
        _ = try await request(ControlRequest(id: 0, op: .setFaults, name: name, faults: faults))
    }

    public func faults(_ name: String) async throws -> [FaultStatus] {
        if writer == nil { try await connect() }
        guard greeting?.features?.contains("faults") == true else { return [] }
        return try await request(ControlRequest(id: 0, op: .faults, name: name)).faults ?? []
    }

    public func drain(_ name: String, instances: [String], timeout: Duration) async throws -> [String] {
        let milliseconds = Int(timeout.milliseconds)
        let response = try await request(
            ControlRequest(id: 0, op: .drain, name: name, instances: instances, timeoutMs: milliseconds)
        )
        return response.busy ?? []
    }

    public func sample(_ name: String) async throws -> AppTrafficSample {
        guard let sample = try await request(ControlRequest(id: 0, op: .sample, name: name)).sample else {
            throw Unreachable(description: "the data plane sent no sample")
        }
        return sample
    }

    public func recentRequests(_ name: String, limit: Int) async throws -> [String] {
        try await request(ControlRequest(id: 0, op: .recent, name: name, limit: limit)).targets ?? []
    }

    public func failedRequests(_ name: String, after: Int64, limit: Int) async throws -> [FailedRequest] {
        try await request(ControlRequest(id: 0, op: .failures, name: name, limit: limit, after: after)).failures ?? []
    }
}
