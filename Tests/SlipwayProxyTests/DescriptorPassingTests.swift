import Foundation
import Synchronization
import Testing

@testable import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets crossing a Unix socket with `SCM_RIGHTS`, as a hand-over passes them.
@Suite struct DescriptorPassingTests {
    @Test func aListeningSocketAndALargePayloadArriveWhole() async throws {
        let pair = try SocketPair()
        let listening = try ListeningSocket.open(host: "127.0.0.1", port: 0)
        let port = try localPort(of: listening)
        // Larger than any socket buffer: the payload needs many reads on the other side.
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

        let sender = pair.first
        let sent = Task.detached { () throws -> Void in
            try DescriptorPassing.send([listening], payload: payload, over: sender)
            // The sender's copy goes: only the received descriptor can accept from now on.
            close(listening)
        }
        let receiver = pair.second
        let (received, descriptors) = try await onThread {
            Result { try DescriptorPassing.receive(from: receiver, timeoutMs: 5_000) }
        }.get()
        try await sent.value

        #expect(received.count == payload.count)
        #expect(received == payload)
        #expect(descriptors.count == 1)
        let descriptor = try #require(descriptors.first)
        defer { close(descriptor) }
        #expect(try localPort(of: descriptor) == port)
        // Received close-on-exec, like every descriptor the data plane holds.
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)

        // A connection to the port is accepted through the received descriptor, and carries bytes both ways.
        let client = try connectLoopback(port: port)
        defer { close(client) }
        var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5_000) == 1)
        let accepted = accept(descriptor, nil, nil)
        #expect(accepted >= 0)
        defer { close(accepted) }
        var ping: UInt8 = 0x2A
        #expect(write(client, &ping, 1) == 1)
        var echoed: UInt8 = 0
        var readable = pollfd(fd: accepted, events: Int16(POLLIN), revents: 0)
        #expect(poll(&readable, 1, 5_000) == 1)
        #expect(read(accepted, &echoed, 1) == 1)
        #expect(echoed == 0x2A)
    }

    @Test func aReceiveWithNothingSentTimesOutWithinItsBound() async throws {
        let pair = try SocketPair()
        let receiver = pair.second
        let started = ContinuousClock.now
        let outcome = await onThread { Result { try DescriptorPassing.receive(from: receiver, timeoutMs: 300) } }
        let took = ContinuousClock.now - started
        #expect(throws: DescriptorPassing.Failure.self) { try outcome.get() }
        if case .failure(let error) = outcome {
            #expect(String(describing: error) == "no hand-over arrived within 300 ms")
        }
        #expect(took >= .milliseconds(300))
        // Bounded, not timed: a loaded machine may take a while to run the thread at all.
        #expect(took < .seconds(10), "gave up after \(took)")
    }

    @Test func aSenderThatStopsHalfwayIsReported() async throws {
        let pair = try SocketPair()
        let receiver = pair.second
        // The length says 1,000 bytes; only 10 come before the sender goes.
        var length = UInt64(1_000).bigEndian
        #expect(withUnsafeBytes(of: &length) { send(pair.first, $0.baseAddress, $0.count, 0) } == 8)
        try DescriptorPassing.writeAll([UInt8](repeating: 7, count: 10), to: pair.first)
        pair.closeFirst()
        let outcome = await onThread { Result { try DescriptorPassing.receive(from: receiver, timeoutMs: 2_000) } }
        #expect(throws: DescriptorPassing.Failure.self) { try outcome.get() }
        if case .failure(let error) = outcome {
            #expect(String(describing: error) == "the hand-over ended early")
        }
    }
}

/// Both ends of a `socketpair(AF_UNIX, SOCK_STREAM)`, closed when it goes.
private final class SocketPair: Sendable {
    let first: Int32
    let second: Int32
    private let firstClosed = Mutex(false)

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else {
            throw DescriptorPassing.Failure("socketpair")
        }
        first = ends[0]
        second = ends[1]
    }

    func closeFirst() {
        firstClosed.withLock { closed in
            if !closed { close(first) }
            closed = true
        }
    }

    deinit {
        closeFirst()
        close(second)
    }
}

/// The port a bound socket listens on.
private func localPort(of descriptor: Int32) throws -> Int {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard named == 0 else { throw DescriptorPassing.Failure("getsockname") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A TCP connection to 127.0.0.1:`port`.
private func connectLoopback(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        throw DescriptorPassing.Failure("connect")
    }
    return fd
}
