#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal blocking HTTP/1.1 over loopback sockets, enough to talk to a demo app process.
public enum LoopbackHTTP {
    /// Why a request could not be made or answered.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// A response: status code and body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    #if os(Linux)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = SOCK_STREAM
    #endif

    /// A loopback port the system reports free right now.
    public static func freePort() throws -> Int {
        let (socketDescriptor, port) = try boundSocket()
        close(socketDescriptor)
        return port
    }

    /// A loopback port where every connection is refused for as long as the returned descriptor stays open: it is
    /// bound, so no other test can take it, and not listening. Close the descriptor when done.
    public static func refusingPort() throws -> (descriptor: Int32, port: Int) {
        try boundSocket()
    }

    /// A socket bound to a free loopback port, not listening, and its port.
    private static func boundSocket() throws -> (Int32, Int) {
        let socketDescriptor = socket(AF_INET, streamType, 0)
        guard socketDescriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var keep = false
        defer { if !keep { close(socketDescriptor) } }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw Failure(description: "bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(socketDescriptor, $0, &length)
            }
        }
        guard named == 0 else { throw Failure(description: "getsockname() failed: errno \(errno)") }
        keep = true
        return (socketDescriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Whether something accepts TCP connections on the loopback port.
    public static func isAccepting(host: String = "127.0.0.1", port: Int) -> Bool {
        guard let socketDescriptor = try? connected(host: host, port: port, timeout: .seconds(1)) else { return false }
        close(socketDescriptor)
        return true
    }

    /// Sends `GET path` with `headers` and reads the whole reply, giving up after `timeout` without progress.
    public static func get(
        port: Int,
        path: String,
        headers: [String: String] = [:],
        timeout: Duration = .seconds(10),
        host: String = "127.0.0.1"
    ) throws -> Reply {
        let socketDescriptor = try connected(host: host, port: port, timeout: timeout)
        defer { close(socketDescriptor) }
        let extra = headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
        let request = Array(
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\(extra)\r\n".utf8
        )
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(socketDescriptor, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw Failure(description: "send() failed: errno \(errno)") }
            sent += written
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let reply = parse(received) { return reply }
            let count = chunk.withUnsafeMutableBytes { recv(socketDescriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv() failed: errno \(errno)") }
            received.append(contentsOf: chunk[0..<count])
        }
        guard let reply = parse(received, atEndOfStream: true) else {
            throw Failure(description: "incomplete reply: \(String(decoding: received, as: UTF8.self))")
        }
        return reply
    }

    /// The reply in `bytes` once it is complete: its head and as much body as its Content-Length says.
    private static func parse(_ bytes: [UInt8], atEndOfStream: Bool = false) -> Reply? {
        let separator = Array("\r\n\r\n".utf8)
        guard bytes.count >= separator.count,
            let headEnd = (0...(bytes.count - separator.count)).first(where: {
                Array(bytes[$0..<($0 + separator.count)]) == separator
            })
        else { return nil }
        let head = String(decoding: bytes[0..<headEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first else { return nil }
        let statusParts = statusLine.split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        let body = Array(bytes[(headEnd + separator.count)...])
        let lengthLine = lines.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
        if let lengthLine, let length = Int(lengthLine.dropFirst("content-length:".count).trimmingSpaces()) {
            guard body.count >= length else { return nil }
            return Reply(status: status, body: String(decoding: body[0..<length], as: UTF8.self))
        }
        return atEndOfStream ? Reply(status: status, body: String(decoding: body, as: UTF8.self)) : nil
    }

    /// A socket connected to `host` (an IPv4 address: loopback, or one of a network namespace the test made).
    private static func connected(host: String = "127.0.0.1", port: Int, timeout: Duration) throws -> Int32 {
        let socketDescriptor = socket(AF_INET, streamType, 0)
        guard socketDescriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        if time.tv_sec == 0 { time.tv_sec = 1 }
        let size = socklen_t(MemoryLayout<timeval>.size)
        setsockopt(socketDescriptor, SOL_SOCKET, SO_RCVTIMEO, &time, size)
        setsockopt(socketDescriptor, SOL_SOCKET, SO_SNDTIMEO, &time, size)
        var address = loopback(port: port)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketDescriptor)
            throw Failure(description: "\(host) is not an IPv4 address")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(socketDescriptor)
            throw Failure(description: "connect() to port \(port) failed: errno \(code)")
        }
        return socketDescriptor
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
