import Foundation
import SlipwayProxy
import SlipwayTestSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A fresh empty directory with a short path (`/tmp/sw-XXXXXX`): Unix socket paths inside it stay far below the
/// 108 bytes `sockaddr_un` holds, whatever `TMPDIR` says.
func makeShortDirectory() throws -> String {
    var template = Array("/tmp/sw-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
        throw LoopbackHTTP.Failure(description: "mkdtemp failed: errno \(errno)")
    }
    return String(cString: made)
}

/// Removes `directory` and everything in it.
func removeDirectory(_ directory: String) {
    try? FileManager.default.removeItem(atPath: directory)
}

/// Runs blocking `body` on a thread of its own, so that no thread of the concurrency pool waits on a socket.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// The text of the file at `path`, nil when it cannot be read.
func fileText(_ path: String) -> String? {
    try? String(contentsOfFile: path, encoding: .utf8)
}

/// A `slipway-dataplane` process started from the binary built beside the test bundle, its standard output and
/// error going to files in its state directory.
///
/// ``stop()`` ends it by its PID (SIGTERM, then SIGKILL); the deinit kills one a failed test left running.
final class DataPlaneProcessRun {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    let paths: DataPlanePaths
    /// Where its standard error goes.
    let errorLog: String
    /// Just before the process was started.
    let launched: ContinuousClock.Instant

    /// Starts `slipway-dataplane --state stateDirectory --threads 2` (with `--take-over` when asked); `label` names
    /// its output files.
    init(stateDirectory: String, takeOver: Bool = false, label: String) throws {
        let binary = BuiltProducts.path("slipway-dataplane")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure(description: "no slipway-dataplane binary at \(binary); build it with swift build")
        }
        paths = DataPlanePaths(stateDirectory: stateDirectory)
        errorLog = "\(stateDirectory)/\(label).stderr"
        let outputLog = "\(stateDirectory)/\(label).stdout"
        guard FileManager.default.createFile(atPath: errorLog, contents: nil),
            FileManager.default.createFile(atPath: outputLog, contents: nil)
        else { throw Failure(description: "cannot create the output files in \(stateDirectory)") }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--state", stateDirectory, "--threads", "2"] + (takeOver ? ["--take-over"] : [])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: outputLog)
        process.standardError = FileHandle(forWritingAtPath: errorLog)
        launched = .now
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var pid: Int32 { process.processIdentifier }

    /// What it wrote to standard error so far.
    var standardError: String { fileText(errorLog) ?? "" }

    /// The pid its pid file names, nil when there is none.
    var recordedPid: Int32? {
        fileText(paths.pid).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Waits until its pid file names it and its control socket greets with its pid; returns the greeting.
    func waitUntilReady(timeout: Duration = .seconds(10)) async throws -> DataPlaneStatus {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw Failure(description: "slipway-dataplane exited early: \(standardError)")
            }
            if recordedPid == pid {
                let probe = DataPlaneClient(path: paths.socket)
                let greeting = try? await probe.connect()
                await probe.disconnect()
                if let greeting, greeting.pid == pid { return greeting }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "slipway-dataplane \(pid) not ready within \(timeout): \(standardError)")
    }

    /// Waits until it exits; its exit status, or nil when it still runs after `timeout` or ended by a signal.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        guard !process.isRunning, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    /// Sends `signal` to it by its PID.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// SIGTERM, then SIGKILL if it still runs after 5 s; returns whether the PID is gone.
    func stop() async -> Bool {
        if process.isRunning {
            send(SIGTERM)
            _ = await waitForExit(timeout: .seconds(5))
        }
        if process.isRunning {
            send(SIGKILL)
            _ = await waitForExit(timeout: .seconds(5))
        }
        return !processExists(pid)
    }
}

/// A blocking HTTP/1.1 client connection to 127.0.0.1 that stays open across requests (keep-alive), with a receive
/// and send timeout of 5 s.
final class KeepAliveConnection {
    /// A response: status, headers (names lowercased) and body.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String

        /// Whether the server ends the connection after it.
        var closes: Bool { headers["connection"]?.lowercased() == "close" }
    }

    /// Why an exchange failed.
    struct Failure: Error, CustomStringConvertible {
        /// The connection was refused, reset or closed before a whole response came.
        var isReset: Bool
        var description: String
    }

    private let fd: Int32
    private let port: Int
    private var buffered: [UInt8] = []

    /// Connects to `port` on 127.0.0.1.
    init(port: Int) throws(Failure) {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(isReset: false, description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // No close here: the object is whole, so deinit closes the socket (twice would close another's).
        guard connected == 0 else {
            let code = errno
            throw Failure(isReset: true, description: "connect to \(port): \(String(cString: strerror(code)))")
        }
    }

    deinit { close(fd) }

    /// Sends `GET path` and reads its whole response (a body of `Content-Length` bytes).
    func get(_ path: String, headers: [(String, String)] = []) throws(Failure) -> Response {
        let extra = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\(extra)\r\n".utf8)
        var offset = 0
        while offset < request.count {
            let sent = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else {
                let code = errno
                throw Failure(isReset: true, description: "send: \(String(cString: strerror(code)))")
            }
            offset += sent
        }
        let headEnd = try readUntilHeadEnd()
        let head = String(decoding: buffered[..<headEnd], as: UTF8.self)
        buffered.removeFirst(headEnd + 4)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure(isReset: false, description: "not a status line: \(lines[0])")
        }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(fields["content-length"] ?? "0") ?? 0
        while buffered.count < length { try receive() }
        let body = String(decoding: buffered[..<length], as: UTF8.self)
        buffered.removeFirst(length)
        return Response(status: status, headers: fields, body: body)
    }

    private func readUntilHeadEnd() throws(Failure) -> Int {
        let separator = Array("\r\n\r\n".utf8)
        var searched = 0
        while true {
            if buffered.count >= 4 {
                for start in searched...(buffered.count - 4) where Array(buffered[start..<(start + 4)]) == separator {
                    return start
                }
                searched = buffered.count - 3
            }
            try receive()
        }
    }

    private func receive() throws(Failure) {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffered += chunk[..<count]
            return
        }
        if count == 0 { throw Failure(isReset: true, description: "closed before a whole response") }
        let code = errno
        let reset = code == ECONNRESET || code == EPIPE
        throw Failure(isReset: reset, description: "recv: \(String(cString: strerror(code)))")
    }
}

/// Keep-alive load from threads of its own: each sends GETs on one connection and opens a new one only after a
/// response saying `Connection: close`. Failed requests (an error status, a timeout) and resets (refused, reset or
/// closed under a request) are counted apart.
final class KeepAliveLoad: Sendable {
    private let served = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let reset = Atomic<Int>(0)
    private let connected = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Int>(0)
    private let notes = Mutex<[String]>([])
    private let workers: Int

    /// Starts `workers` threads sending `GET path` to `port`.
    init(port: Int, workers: Int, path: String = "/") {
        self.workers = workers
        for worker in 0..<workers {
            Thread { [self] in
                run(port: port, path: "\(path)?worker=\(worker)")
                finished.add(1, ordering: .relaxed)
            }.start()
        }
    }

    /// 200 responses.
    var successes: Int { served.load(ordering: .relaxed) }
    /// Requests answered with another status, or not answered in time.
    var failures: Int { failed.load(ordering: .relaxed) }
    /// Requests refused, reset or cut off.
    var resets: Int { reset.load(ordering: .relaxed) }
    /// Connections opened.
    var connections: Int { connected.load(ordering: .relaxed) }
    /// The first problems seen, for a failure message.
    var problems: [String] { notes.withLock { $0 } }

    /// Stops every thread and waits for them (at most 10 s); returns whether all ended.
    func stop() async -> Bool {
        stopping.store(true, ordering: .relaxed)
        for _ in 0..<500 where finished.load(ordering: .relaxed) < workers {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return finished.load(ordering: .relaxed) == workers
    }

    /// Waits until `count` more requests were served (at most `timeout`).
    func waitForMore(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        let target = successes + count
        try await waitUntil("\(count) more requests served", timeout: timeout) { self.successes >= target }
    }

    private func run(port: Int, path: String) {
        var connection: KeepAliveConnection?
        while !stopping.load(ordering: .relaxed) {
            do throws(KeepAliveConnection.Failure) {
                let current: KeepAliveConnection
                if let connection {
                    current = connection
                } else {
                    current = try KeepAliveConnection(port: port)
                    connected.add(1, ordering: .relaxed)
                    connection = current
                }
                let response = try current.get(path)
                if response.status == 200 {
                    served.add(1, ordering: .relaxed)
                } else {
                    failed.add(1, ordering: .relaxed)
                    note("status \(response.status): \(response.body)")
                }
                if response.closes { connection = nil }
            } catch {
                if error.isReset {
                    reset.add(1, ordering: .relaxed)
                } else {
                    failed.add(1, ordering: .relaxed)
                }
                note(error.description)
                connection = nil
            }
        }
    }

    private func note(_ problem: String) {
        notes.withLock { if $0.count < 10 { $0.append(problem) } }
    }
}

/// `GET path` on a fresh connection to `port` on 127.0.0.1, from a thread of its own.
func loopbackGet(
    port: Int,
    _ path: String,
    headers: [(String, String)] = []
) async throws -> KeepAliveConnection.Response {
    let result = await onThread { () -> Result<KeepAliveConnection.Response, KeepAliveConnection.Failure> in
        do throws(KeepAliveConnection.Failure) {
            return .success(try KeepAliveConnection(port: port).get(path, headers: headers))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}
