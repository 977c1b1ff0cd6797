import NIOCore
import NIOExtras
import NIOPosix
import SlipwayCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Serves a ``DataPlane`` on its control socket, a Unix socket only its owner may open.
public final class ControlServer: Sendable {
    /// What the data plane's process does when asked to stop or to hand over.
    public struct Lifecycle: Sendable {
        /// Stop serving and exit (after closing every listener).
        public var shutdown: @Sendable () -> Void
        /// The listeners were handed over: finish what is open, then exit.
        public var handedOver: @Sendable () -> Void

        /// Creates the hooks.
        public init(shutdown: @escaping @Sendable () -> Void, handedOver: @escaping @Sendable () -> Void) {
            self.shutdown = shutdown
            self.handedOver = handedOver
        }
    }

    private let dataPlane: DataPlane
    private let lifecycle: Lifecycle
    private let startedAtMs: Int64
    private let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// Binds `path` (replacing a stale socket file there) with owner-only permissions.
    public init(
        path: String,
        dataPlane: DataPlane,
        lifecycle: Lifecycle,
        group: any EventLoopGroup
    ) async throws {
        self.dataPlane = dataPlane
        self.lifecycle = lifecycle
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        self.startedAtMs = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        // Created owner-only from the start: no moment when another user could connect.
        let previous = umask(0o177)
        defer { umask(previous) }
        self.channel = try await ServerBootstrap(group: group).bind(
            unixDomainSocketPath: path,
            cleanupExistingSocketFile: true
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    }

    /// Serves connections until the socket is closed.
    public func run() async {
        try? await withThrowingDiscardingTaskGroup { group in
            try await channel.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// Stops accepting control connections.
    public func close() async {
        try? await channel.channel.close()
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            let (answers, answer) = AsyncStream<ControlResponse>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let encoder = JSONEncoder()
                    for await response in answers {
                        var line = try encoder.encode(response)
                        line.append(UInt8(ascii: "\n"))
                        try await outbound.write(ByteBuffer(bytes: line))
                    }
                }
                var greeted = false
                for try await line in inbound {
                    guard
                        let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
                    else {
                        answer.yield(ControlResponse(id: 0, error: "not a control request"))
                        break
                    }
                    if !greeted {
                        let refusal = Self.greet(request)
                        answer.yield(ControlResponse(id: request.id, error: refusal, status: await status()))
                        if refusal != nil { break }
                        greeted = true
                        continue
                    }
                    // Each request on its own: a drain that waits holds up no sample.
                    group.addTask { answer.yield(await self.answer(request)) }
                }
                answer.finish()
                try await group.waitForAll()
            }
        }
    }

    private static func greet(_ request: ControlRequest) -> String? {
        guard request.op == .hello else { return "the first request must be hello" }
        guard request.protocolVersion == ControlProtocol.version else {
            return "this data plane (Slipway \(SlipwayBuild.version)) speaks control protocol "
                + "\(ControlProtocol.version), the client (Slipway \(request.build ?? "?")) speaks "
                + "\(request.protocolVersion.map(String.init) ?? "none")"
        }
        return nil
    }

    private func status() async -> DataPlaneStatus {
        DataPlaneStatus(
            pid: getpid(),
            build: SlipwayBuild.version,
            protocolVersion: ControlProtocol.version,
            startedAtMs: startedAtMs,
            listeners: await dataPlane.bound
        )
    }

    private func answer(_ request: ControlRequest) async -> ControlResponse {
        var response = ControlResponse(id: request.id)
        do {
            switch request.op {
            case .hello:
                response.status = await status()
            case .status:
                response.status = await status()
            case .open:
                response.port = try await dataPlane.open(try named(request), try request.listen.required("listen"))
            case .close:
                try await dataPlane.close(try named(request))
            case .setRoutes:
                try await dataPlane.setRoutes(try named(request), try request.routes.required("routes"))
            case .routes:
                response.routes = await dataPlane.routes(try named(request))
            case .setFaults:
                try await dataPlane.setFaults(try named(request), try request.faults.required("faults"))
            case .faults:
                response.faults = try await dataPlane.faults(try named(request))
            case .drain:
                response.busy = try await dataPlane.drain(
                    try named(request),
                    instances: try request.instances.required("instances"),
                    timeout: .milliseconds(try request.timeoutMs.required("timeoutMs"))
                )
            case .sample:
                response.sample = try await dataPlane.sample(try named(request))
            case .recent:
                response.targets = try await dataPlane.recentRequests(
                    try named(request),
                    limit: try request.limit.required("limit")
                )
            case .failures:
                response.failures = try await dataPlane.failedRequests(
                    try named(request),
                    after: request.after ?? 0,
                    limit: try request.limit.required("limit")
                )
            case .handOver:
                let path = try request.name.required("name")
                let (state, sockets) = await dataPlane.handOverParcel()
                try await Task.detached { try HandOver.give(state, sockets: sockets, to: path) }.value
                lifecycle.handedOver()
            case .shutdown:
                lifecycle.shutdown()
            }
        } catch {
            response.error = String(describing: error)
        }
        return response
    }

    private func named(_ request: ControlRequest) throws -> String {
        try request.name.required("name")
    }
}

/// A request that lacks a field its operation needs.
struct MissingField: Error, CustomStringConvertible {
    var field: String
    var description: String { "the request has no \(field)" }
}

extension Optional {
    fileprivate func required(_ field: String) throws -> Wrapped {
        guard let self else { throw MissingField(field: field) }
        return self
    }
}
