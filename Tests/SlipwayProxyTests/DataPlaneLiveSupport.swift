import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import SlipwayTestSupport

@testable import SlipwayProxy

/// A listener on 127.0.0.1 with its own two event loops, in front of whatever instances a test routes to.
final class LiveProxy: Sendable {
    let group: MultiThreadedEventLoopGroup
    let listener: AppListener

    private init(group: MultiThreadedEventLoopGroup, listener: AppListener) {
        self.group = group
        self.listener = listener
    }

    static func start(settings: ProxySettings = ProxySettings()) async throws -> LiveProxy {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listener = try await AppListener.bind(
            app: "shop",
            host: "127.0.0.1",
            port: 0,
            settings: settings,
            group: group
        )
        return LiveProxy(group: group, listener: listener)
    }

    var port: Int { listener.port }
    var url: String { "http://127.0.0.1:\(port)" }

    /// Routes all traffic to `instances` as one version.
    func route(_ instances: [UpstreamInstance], version: String = "v1") throws {
        listener.update(
            try RouteTable(versions: [VersionRoute(version: version, weight: 10_000, instances: instances)])
        )
    }

    func stop() async throws {
        try await listener.close()
        try await group.shutdownGracefully()
    }
}

extension FixtureUpstream {
    /// This fixture as a routable instance.
    func instance(_ id: String? = nil, version: String = "v1") throws -> UpstreamInstance {
        try UpstreamInstance(id: id ?? name, version: version, host: "127.0.0.1", port: port)
    }
}

/// An HTTP client for the tests, with keep-alive.
func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.decompression = .disabled
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// GET `url`: status and body text.
func get(_ client: HTTPClient, _ url: String, headers: [(String, String)] = []) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: url)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await client.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: body))
}

/// A raw TCP connection to 127.0.0.1, for exact bytes on the wire (pipelining, Expect, WebSocket).
final class RawConnection {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw LoopbackHTTP.Failure(description: "connect failed: errno \(errno)") }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Reads until `done` holds for what was read, the peer closes, or 10 s pass.
    func read(until done: ([UInt8]) -> Bool) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(10)
        while !done(data), Date() < deadline {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: buffer[..<count])
        }
        return data
    }

    func readText(until marker: String, count: Int = 1) -> String {
        let bytes = read { String(decoding: $0, as: UTF8.self).components(separatedBy: marker).count > count }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Resident memory of this process, in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kilobytes * 1024
}
