import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Steady load on a loopback port from threads of its own: keep-alive connections, each thread pacing its requests,
/// every response kept with its time, status and the version that answered.
public final class LoadClient: Sendable {
    public struct Response: Sendable {
        /// Seconds since the load began.
        public var at: Double
        /// 0 when no response came (connection refused or reset, timeout).
        public var status: Int
        /// The `version` field of the demo app's JSON answer.
        public var version: String?
        /// How long the request took, in seconds.
        public var latency: Double
        /// Whether the response carried `Retry-After`.
        public var retryAfter = false
    }

    private let responses = Mutex<[Response]>([])
    private let retries = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let done = Atomic<Int>(0)
    private let threads: Int
    public let began = Date()

    /// Starts `threads` threads sending `method path` (an empty body unless GET) to `port`, together about `rate` requests per second. With
    /// `honourConnectionClose` a thread opens a new connection after a response that says `Connection: close`, as
    /// a careful client does; otherwise it finds out on its next request. With `userHeader` every request carries it
    /// with a user drawn at random from `users`, as many people behind sticky routing would. `host` is an IPv4
    /// address: loopback, or one inside a network namespace the test made.
    public init(
        port: Int,
        host: String = "127.0.0.1",
        rate: Int = 240,
        threads: Int = 6,
        path: String = "/",
        method: String = "GET",
        headers: [String: String] = [:],
        userHeader: String? = nil,
        users: Int = 1_000_000,
        honourConnectionClose: Bool = false
    ) {
        self.threads = threads
        let interval = Double(threads) / Double(rate)
        for _ in 0..<threads {
            let thread = Thread { [self] in
                var connection: Int32 = -1
                var next = Date().timeIntervalSince1970
                while !stopping.load(ordering: .relaxed) {
                    let start = Date()
                    var requestHeaders = headers
                    if let userHeader { requestHeaders[userHeader] = "user-\(Int.random(in: 0..<users))" }
                    let (reply, socket, retried) = Self.request(
                        host: host,
                        port: port,
                        path: path,
                        method: method,
                        headers: requestHeaders,
                        reusing: connection
                    )
                    if retried { retries.add(1, ordering: .relaxed) }
                    connection = socket
                    if honourConnectionClose, reply?.closes == true, connection >= 0 {
                        close(connection)
                        connection = -1
                    }
                    let end = Date()
                    responses.withLock {
                        $0.append(
                            Response(
                                at: start.timeIntervalSince(began),
                                status: reply?.status ?? 0,
                                version: reply?.version,
                                latency: end.timeIntervalSince(start),
                                retryAfter: reply?.retryAfter ?? false
                            )
                        )
                    }
                    next += interval
                    let wait = next - Date().timeIntervalSince1970
                    if wait > 0 { usleep(UInt32(wait * 1_000_000)) } else { next = Date().timeIntervalSince1970 }
                }
                if connection >= 0 { close(connection) }
                done.add(1, ordering: .relaxed)
            }
            thread.start()
        }
    }

    /// Stops every thread and waits for them (bounded).
    public func stop() async {
        stopping.store(true, ordering: .relaxed)
        for _ in 0..<200 where done.load(ordering: .relaxed) < threads {
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    public var all: [Response] { responses.withLock { $0 } }

    /// Requests sent again on a fresh connection because a kept-alive one was closed under them.
    public var retried: Int { retries.load(ordering: .relaxed) }

    /// Responses that were not a 2xx from the app.
    public var failed: [Response] { all.filter { !(200..<300).contains($0.status) } }

    /// Responses per version.
    public func served(by version: String) -> [Response] { all.filter { $0.version == version && $0.status == 200 } }

    /// Waits until at least `count` more responses came back (bounded by `timeout`).
    public func waitFor(_ count: Int, timeout: Duration = .seconds(20)) async {
        let target = all.count + count
        let deadline = ContinuousClock.now + timeout
        while all.count < target, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// The latency below which `quantile` of the responses since `since` (seconds into the load) finished.
    public func latency(quantile: Double, since: Double = 0) -> Double {
        let sorted = all.filter { $0.at >= since && $0.status == 200 }.map(\.latency).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
    }

    // MARK: One request on a keep-alive connection

    private struct Reply {
        var status: Int
        var version: String?
        /// The response said `Connection: close`.
        var closes = false
        var retryAfter = false
    }

    private static func request(
        host: String,
        port: Int,
        path: String,
        method: String,
        headers: [String: String],
        reusing connection: Int32
    ) -> (Reply?, Int32, Bool) {
        var socket = connection
        for attempt in 0..<2 {
            if socket < 0 {
                socket = connect(host: host, port: port)
                if socket < 0 { return (nil, -1, attempt > 0) }
            }
            var extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
            if method != "GET" { extra += "Content-Length: 0\r\n" }
            let head = Array("\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n\(extra)\r\n".utf8)
            let sent = head.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent == head.count, let reply = read(socket) { return (reply, socket, attempt > 0) }
            close(socket)
            socket = -1
            // A keep-alive connection the proxy closed while idle is retried once on a fresh one; a fresh
            // connection that fails is a failure.
            if attempt == 0, connection >= 0 { continue }
            return (nil, -1, attempt > 0)
        }
        return (nil, -1, true)
    }

    private static func read(_ socket: Int32) -> Reply? {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while received.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received.append(contentsOf: chunk[0..<count])
            guard let headEnd = find(Array("\r\n\r\n".utf8), in: received) else { continue }
            let head = String(decoding: received[0..<headEnd], as: UTF8.self).lowercased()
            let lines = head.split(separator: "\r\n")
            guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
                let status = Int(statusLine.split(separator: " ")[1])
            else { return nil }
            let length =
                lines.first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headEnd + 4
            guard received.count >= bodyStart + length else { continue }
            let body = String(decoding: received[bodyStart..<(bodyStart + length)], as: UTF8.self)
            let header = lines.first { $0.hasPrefix("x-demo-version:") }
                .map { String($0.dropFirst("x-demo-version:".count)).trimmingCharacters(in: .whitespaces) }
            let closes = lines.contains { $0.hasPrefix("connection:") && $0.contains("close") }
            let retryAfter = lines.contains { $0.hasPrefix("retry-after:") }
            return Reply(status: status, version: version(in: body) ?? header, closes: closes, retryAfter: retryAfter)
        }
        return nil
    }

    private static func version(in body: String) -> String? {
        guard let range = body.range(of: "\"version\":\"") else { return nil }
        let rest = body[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }

    private static func connect(host: String, port: Int) -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return -1 }
        var time = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socket)
            return -1
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(socket)
            return -1
        }
        return socket
    }
}
