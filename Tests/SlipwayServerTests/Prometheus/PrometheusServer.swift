import Foundation
import SlipwayTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Whether this machine can run the Prometheus tests: the Debian package is installed, or the run demands it (then a
/// missing server fails the tests instead of skipping them).
enum PrometheusRequirement {
    static let demanded = ProcessInfo.processInfo.environment["SLIPWAY_REQUIRE_PROMETHEUS"].map { !$0.isEmpty } ?? false
    static let canRun = PrometheusServer.isInstalled || demanded
}

/// A real Prometheus on a loopback port with a fresh data directory, scraping every second: static targets, and the
/// targets of a file the test rewrites (file-based discovery). `stop()` ends it by PID within a bounded time.
final class PrometheusServer: Sendable {
    typealias Failure = ServerProcess.Failure

    static let path = "/usr/bin/prometheus"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    let pid: pid_t
    let port: Int
    let directory: String
    /// The file-discovery targets file.
    var targetsFile: String { directory + "/targets.json" }
    var url: String { "http://127.0.0.1:\(port)" }

    private init(pid: pid_t, port: Int, directory: String) {
        self.pid = pid
        self.port = port
        self.directory = directory
    }

    /// Starts Prometheus scraping `staticTargets` (`127.0.0.1:PORT`, path `/metrics`) and the targets file, and waits
    /// (bounded) until it is ready.
    static func start(staticTargets: [String]) async throws -> PrometheusServer {
        let directory = try makeTemporaryDirectory("slipway-prometheus")
        let port = try LoopbackHTTP.freePort()
        let targets = staticTargets.map { "'\($0)'" }.joined(separator: ", ")
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: slipway
                static_configs:
                  - targets: [\(targets)]
              - job_name: app
                file_sd_configs:
                  - files: ['\(directory)/targets.json']
                    refresh_interval: 1s
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        try "[]".write(toFile: directory + "/targets.json", atomically: true, encoding: .utf8)
        let pid = try ServerProcess.spawn(
            [
                path, "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ],
            log: directory + "/prometheus.log"
        )
        let server = PrometheusServer(pid: pid, port: port, directory: directory)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let reply = try? LoopbackHTTP.get(port: port, path: "/-/ready", timeout: .seconds(2)),
                reply.status == 200
            {
                return server
            }
            var status: Int32 = 0
            if ServerProcess.exited(pid, status: &status) {
                let log = (try? String(contentsOfFile: directory + "/prometheus.log", encoding: .utf8)) ?? ""
                throw Failure(
                    description: "prometheus exited (status \(status)) before it was ready: \(log.suffix(2_000))"
                )
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw Failure(description: "prometheus was not ready within 30 s")
    }

    /// Points file discovery at these `host:port` targets, each with its labels.
    func discover(_ targets: [(address: String, labels: [String: String])]) throws {
        let entries = targets.map { target in
            let labels = target.labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }
            return "{\"targets\": [\"\(target.address)\"], \"labels\": {\(labels.joined(separator: ", "))}}"
        }
        try ("[" + entries.joined(separator: ", ") + "]").write(toFile: targetsFile, atomically: true, encoding: .utf8)
    }

    /// Ends it by its PID (see ``ServerProcess/stop(_:)``) and removes its directory.
    func stop() {
        ServerProcess.stop(pid)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
