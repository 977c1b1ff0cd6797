import Foundation
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayProxy

/// A real server process on a loopback port for resilience tests: `python3 -m http.server`, or the flaky server
/// that answers 500 while its flag file exists. Stopped by PID.
struct UpstreamProcess {
    let pid: pid_t
    let port: Int
    let log: String

    /// `python3 -m http.server` serving `directory`.
    static func pythonHTTPServer(directory: String, log: String) async throws -> UpstreamProcess {
        let port = try LoopbackHTTP.freePort()
        let pid = try ServerProcess.spawn(
            ["/usr/bin/python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory],
            log: log
        )
        return try await UpstreamProcess(pid: pid, port: port, log: log).listening()
    }

    /// `Tests/Fixtures/flaky-server.py`: 500 (after `delayMs`) while `flag` exists, or on paths starting with
    /// `failPath`, else 200.
    static func flaky(
        flag: String,
        delayMs: Int = 0,
        failPath: String? = nil,
        log: String
    ) async throws
        -> UpstreamProcess
    {
        let port = try LoopbackHTTP.freePort()
        let environment = failPath.map { ["/usr/bin/env", "FLAKY_FAIL_PATH=\($0)"] } ?? []
        let pid = try ServerProcess.spawn(
            environment + ["/usr/bin/python3", Fixtures.path("flaky-server.py"), String(port), flag, String(delayMs)],
            log: log
        )
        return try await UpstreamProcess(pid: pid, port: port, log: log).listening()
    }

    private func listening() async throws -> UpstreamProcess {
        do {
            try await waitUntil("a server on port \(port)", timeout: .seconds(20)) {
                (try? RawConnection(port: port)) != nil
            }
        } catch {
            stop()
            throw error
        }
        return self
    }

    func instance(_ id: String, version: String = "1.0.0") throws -> UpstreamInstance {
        try UpstreamInstance(id: id, version: version, host: "127.0.0.1", port: port)
    }

    /// Requests the server logged with `status` (its own count of what reached it).
    func requests(status: Int) -> Int {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("\" \(status) ") }.count
    }

    /// Every request the server logged.
    var requests: Int {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("\"GET ") }.count
    }

    func stop() {
        kill(pid, SIGCONT)
        ServerProcess.stop(pid)
    }
}

/// The servers a test started, stopped together by PID however the test ends.
final class UpstreamSet: Sendable {
    private let servers = Mutex<[UpstreamProcess]>([])

    func add(_ server: UpstreamProcess) {
        servers.withLock { $0.append(server) }
    }

    var all: [UpstreamProcess] { servers.withLock { $0 } }

    subscript(index: Int) -> UpstreamProcess { all[index] }

    func map<T>(_ transform: (UpstreamProcess) throws -> T) rethrows -> [T] { try all.map(transform) }

    func enumerated() -> EnumeratedSequence<[UpstreamProcess]> { all.enumerated() }

    func stopAll() {
        for server in all { server.stop() }
    }
}

/// The outlier events a listener reports, gathered as a test polls them.
final class OutlierEventLog: Sendable {
    private let listener: AppListener
    private let events = Mutex<[OutlierEvent]>([])

    init(_ listener: AppListener) {
        self.listener = listener
    }

    /// Every event so far.
    var all: [OutlierEvent] {
        let latest = listener.outliers.events
        return events.withLock { seen in
            let last = seen.last?.timeNs ?? 0
            seen += latest.filter { $0.timeNs > last }
            return seen
        }
    }

    /// Waits (bounded) for an event that satisfies `matches`, and returns it.
    func waitFor(
        _ what: String,
        timeout: Duration = .seconds(10),
        _ matches: @escaping (OutlierEvent) -> Bool
    ) async throws -> OutlierEvent {
        try await waitUntil(what, timeout: timeout, interval: .milliseconds(20)) { all.contains(where: matches) }
        return all.first(where: matches)!
    }
}

/// The acceptance line of the resilience tests: at least 200 requests a second, at most 0.1% of them failed.
func expectSteadyLoadWithoutFailures(_ load: LoadClient, sourceLocation: SourceLocation = #_sourceLocation) {
    let all = load.all
    let failed = load.failed
    let seconds = (all.last?.at ?? 0) - (all.first?.at ?? 0)
    #expect(
        Double(all.count) / max(seconds, 0.001) >= 200,
        "\(all.count) requests in \(seconds) s",
        sourceLocation: sourceLocation
    )
    #expect(
        Double(failed.count) <= Double(all.count) * 0.001,
        "\(failed.count) of \(all.count) failed: \(failed.prefix(5).map(\.status))",
        sourceLocation: sourceLocation
    )
}

/// Nanoseconds since 1970, as outlier events carry them.
func wallNanoseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000_000)
}
