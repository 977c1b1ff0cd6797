import Foundation
import NIOCore
import NIOPosix
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// The control protocol end to end: a ``ControlServer`` over an in-process ``DataPlane`` on a Unix socket, driven
/// by a ``DataPlaneClient`` and by a client writing raw lines.
@Suite(.serialized) struct ControlChannelTests {
    @Test func aClientDrivesTheDataPlaneOverTheSocket() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let directory = try makeShortDirectory()
        let served = try await ServedControl.start(path: directory + "/c.sock")
        var mode = stat()
        #expect(stat(served.path, &mode) == 0)
        #expect(mode.st_mode & S_IFMT == S_IFSOCK)
        #expect(mode.st_mode & 0o777 == 0o600)

        let client = DataPlaneClient(path: served.path)
        let greeting = try await client.connect()
        #expect(greeting.pid == getpid())
        #expect(greeting.protocolVersion == ControlProtocol.version)
        #expect(greeting.listeners.isEmpty)
        #expect(await client.isConnected)

        let port = try await client.open("shop", loopbackListener)
        #expect(await served.dataPlane.bound["shop"]?.port == port)
        let spec = RouteSpec(
            versions: [
                .init(version: "v1", weight: 10_000, instances: [.init(id: "a-1", host: "127.0.0.1", port: a.port)]),
                .init(version: "v2", weight: 0, instances: [.init(id: "b-1", host: "127.0.0.1", port: b.port)]),
            ],
            rules: [.init(kind: "headerPattern", name: "x-user", value: "qa-[0-9]+", version: "v2")],
            stickiness: "header:x-user"
        )
        try await client.setRoutes("shop", spec)
        #expect(try await client.routes("shop") == spec)
        #expect(try await client.routes("nope") == nil)
        #expect(try await client.status().listeners["shop"]?.port == port)

        for index in 1...3 { #expect(try await loopbackGet(port: port, "/?n=\(index)").body == "a\n") }
        #expect(try await loopbackGet(port: port, "/", headers: [("x-user", "qa-7")]).body == "b\n")
        let sample = try await client.sample("shop")
        #expect(sample.app == "shop")
        #expect(sample.versions["v1"]?.requests == 3)
        #expect(sample.versions["v1"]?.responses(ofClass: 2) == 3)
        #expect(sample.versions["v1"]?.latency.totalCount == 3)
        #expect(sample.versions["v2"]?.requests == 1)
        #expect(sample.instances["a-1"]?.version == "v1")
        #expect(try await client.recentRequests("shop", limit: 2) == ["/", "/?n=3"])

        // A drain that waits holds up no other request on the same connection.
        let slow = Task { try await loopbackGet(port: port, "/slow?ms=2000") }
        try await waitUntil("the slow request in flight to a-1", timeout: .seconds(5)) {
            await served.dataPlane.listener("shop")?.table.instances.first { $0.id == "a-1" }?.inFlight == 1
        }
        try await client.setRoutes("shop", route("v2", to: b, id: "b-1"))
        let drainStarted = ContinuousClock.now
        let drain = Task {
            let busy = try await client.drain("shop", instances: ["a-1"], timeout: .seconds(5))
            return (busy, ContinuousClock.now)
        }
        try await Task.sleep(for: .milliseconds(100))
        _ = try await client.sample("shop")
        let sampled = ContinuousClock.now
        let (busy, drained) = try await drain.value
        #expect(busy.isEmpty)
        // The drain waited for the slow request, and the sample did not wait for the drain.
        #expect(drained - drainStarted >= .milliseconds(1_000))
        #expect(sampled < drained)
        #expect(try await slow.value.status == 200)
        // At its timeout a drain names what is still busy (the request outlasts a slow route change by far).
        let stuck = Task { try await loopbackGet(port: port, "/slow?ms=3000") }
        try await waitUntil("the slow request in flight to b-1", timeout: .seconds(5)) {
            await served.dataPlane.listener("shop")?.table.instances.first { $0.id == "b-1" }?.inFlight == 1
        }
        try await client.setRoutes("shop", route("v1", to: a, id: "a-1"))
        #expect(try await client.drain("shop", instances: ["b-1"], timeout: .milliseconds(100)) == ["b-1"])
        #expect(try await stuck.value.status == 200)

        let refusal = await #expect(throws: DataPlaneClient.Refused.self) { _ = try await client.sample("nope") }
        #expect(refusal?.description == "the data plane has no listener named \"nope\"")
        try await client.close("shop")
        #expect(await served.dataPlane.names.isEmpty)

        await client.disconnect()
        try await served.stop()
        removeDirectory(directory)
        try await a.stop()
        try await b.stop()
    }

    @Test func aClientOfAnotherProtocolIsRefusedNamingBothVersions() async throws {
        let directory = try makeShortDirectory()
        let served = try await ServedControl.start(path: directory + "/c.sock")
        let raw = try UnixLineClient(path: served.path)
        raw.send("{\"id\":1,\"op\":\"hello\",\"protocolVersion\":99,\"build\":\"9.9.9\"}\n")
        let line = try #require(await onThread { raw.readLine() })
        let response = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(response["id"] as? Int == 1)
        let error = try #require(response["error"] as? String)
        #expect(error.contains("speaks control protocol \(ControlProtocol.version)"), "\(error)")
        #expect(error.contains("(Slipway 9.9.9) speaks 99"), "\(error)")
        #expect(await onThread { raw.endsWithin5Seconds() })

        try await served.stop()
        removeDirectory(directory)
    }

    @Test func aRequestBeforeHelloIsRefused() async throws {
        let directory = try makeShortDirectory()
        let served = try await ServedControl.start(path: directory + "/c.sock")
        let early = try UnixLineClient(path: served.path)
        early.send("{\"id\":7,\"op\":\"routes\",\"name\":\"shop\"}\n")
        let line = try #require(await onThread { early.readLine() })
        let response = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(response["id"] as? Int == 7)
        #expect(response["error"] as? String == "the first request must be hello")
        #expect(await onThread { early.endsWithin5Seconds() })

        let garbled = try UnixLineClient(path: served.path)
        garbled.send("open shop please\n")
        let answer = try #require(await onThread { garbled.readLine() })
        #expect(answer.contains("not a control request"))
        #expect(await onThread { garbled.endsWithin5Seconds() })
        #expect(await served.dataPlane.names.isEmpty)

        try await served.stop()
        removeDirectory(directory)
    }

    @Test func aClientReconnectsToANewDataPlaneAndSetsWhatItHadSet() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let path = directory + "/c.sock"
        let first = try await ServedControl.start(path: path)
        let client = DataPlaneClient(path: path)
        let losses = LossCount()
        await client.onLost { losses.count.add(1, ordering: .relaxed) }
        try await client.connect()
        let port = try await client.open("shop", loopbackListener)
        let spec = route("v1", to: a, id: "a-1")
        try await client.setRoutes("shop", spec)
        #expect(try await loopbackGet(port: port, "/").body == "a\n")

        // The data plane goes away with everything it served, its control connections included.
        try await first.stop()
        try await waitUntil("the client to notice", timeout: .seconds(5)) { await !client.isConnected }
        #expect(losses.count.load(ordering: .relaxed) == 1)
        #expect(!LoopbackHTTP.isAccepting(port: port))

        // A new one on the same path knows nothing; the client's next call connects and sets it all again.
        let second = try await ServedControl.start(path: path)
        #expect(await second.dataPlane.names.isEmpty)
        #expect(try await client.routes("shop") == spec)
        #expect(await client.isConnected)
        #expect(await second.dataPlane.bound["shop"]?.port == port)
        #expect(await second.dataPlane.routes("shop") == spec)
        #expect(try await loopbackGet(port: port, "/").body == "a\n")

        await client.disconnect()
        try await second.stop()
        removeDirectory(directory)
        try await a.stop()
    }
}

extension ControlChannelTests {
    @Test func faultsAreSetReadAndRemovedOverTheSocketAndABadOneChangesNothing() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let served = try await ServedControl.start(path: directory + "/c.sock")
        let client = DataPlaneClient(path: served.path)
        let greeting = try await client.connect()
        #expect(greeting.features?.contains("faults") == true)
        let port = try await client.open("shop", loopbackListener)
        try await client.setRoutes("shop", route("v1", to: a, id: "a-1"))
        let expires = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        let teapot = FaultSpec(
            id: "t",
            kind: .abort,
            status: 418,
            share: 10_000,
            pathPrefix: "/tea",
            expiresAtMs: expires
        )
        try await client.setFaults("shop", [teapot])
        #expect(try await loopbackGet(port: port, "/tea/pot").status == 418)
        #expect(try await loopbackGet(port: port, "/").status == 200)
        #expect(try await client.faults("shop") == [FaultStatus(spec: teapot, affected: 1, active: true)])

        // A bad fault is refused with its field named, and the set in force stays.
        var bad = teapot
        bad.id = "u"
        bad.status = 200
        await #expect {
            try await client.setFaults("shop", [teapot, bad])
        } throws: { error in
            "\(error)".contains("faults[1].status: 200 is not an error status")
        }
        #expect(try await client.faults("shop").map(\.spec) == [teapot])
        #expect(try await loopbackGet(port: port, "/tea/pot").status == 418)

        try await client.setFaults("shop", [])
        #expect(try await client.faults("shop").isEmpty)
        #expect(try await loopbackGet(port: port, "/tea/pot").status == 404)

        await client.disconnect()
        try await served.stop()
        removeDirectory(directory)
        try await a.stop()
    }
}

/// A ``ControlServer`` over a fresh ``DataPlane`` (no state file), each on a one-thread group of its own.
private final class ServedControl {
    let path: String
    let group: MultiThreadedEventLoopGroup
    let dataPlane: DataPlane
    let server: ControlServer
    private let running: Task<Void, Never>
    private let finished = RunFinished()

    private init(path: String, group: MultiThreadedEventLoopGroup, dataPlane: DataPlane, server: ControlServer) {
        self.path = path
        self.group = group
        self.dataPlane = dataPlane
        self.server = server
        let finished = self.finished
        running = Task {
            await server.run()
            finished.done.store(true, ordering: .releasing)
        }
    }

    static func start(path: String) async throws -> ServedControl {
        guard path.utf8.count < 100 else { throw LoopbackHTTP.Failure(description: "socket path too long: \(path)") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dataPlane = DataPlane(group: group, stateFile: nil)
        let server = try await ControlServer(
            path: path,
            dataPlane: dataPlane,
            lifecycle: ControlServer.Lifecycle(shutdown: {}, handedOver: {}),
            group: group
        )
        return ServedControl(path: path, group: group, dataPlane: dataPlane, server: server)
    }

    /// Stops accepting and ends every open control connection (closing the socket leaves them open, so `run()` is
    /// cancelled), closes the listeners, then shuts the group down once nothing is left on it.
    func stop() async throws {
        await server.close()
        running.cancel()
        let finished = self.finished
        let ended: Bool
        do {
            try await waitUntil("the control server to finish", timeout: .seconds(5)) {
                finished.done.load(ordering: .acquiring)
            }
            ended = true
        } catch {
            ended = false
        }
        // Asked of the listening sockets themselves: a freed port may already serve a parallel test.
        var listeners: [AppListener] = []
        for name in await dataPlane.bound.keys {
            if let listener = await dataPlane.listener(name) { listeners.append(listener) }
        }
        await dataPlane.shutdown(within: .seconds(1))
        #expect(listeners.allSatisfy { !$0.isListening })
        try await group.shutdownGracefully()
        guard ended else { throw WaitTimedOut(description: "the control server did not finish within 5 s") }
    }
}

/// Set once ``ControlServer/run()`` has returned.
private final class RunFinished: Sendable {
    let done = Atomic<Bool>(false)
}

/// How many times the client reported the data plane lost.
private final class LossCount: Sendable {
    let count = Atomic<Int>(0)
}

/// A plain blocking Unix-socket client writing and reading lines, each read bounded by a 5 s timeout.
private final class UnixLineClient: Sendable {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            let bytes = Array(path.utf8)
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        // No close here: the object is whole, so deinit closes the socket (twice would close another's).
        guard connected == 0 else {
            throw LoopbackHTTP.Failure(description: "connect \(path): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One line without its newline; nil at the end of the stream or after 5 s without a byte.
    func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 1 << 20 {
            guard recv(fd, &byte, 1, 0) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    /// Whether the peer closes the connection (rather than sending more) within 5 s.
    func endsWithin5Seconds() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}
