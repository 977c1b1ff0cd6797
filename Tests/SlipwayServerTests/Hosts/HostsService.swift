import Foundation
import SlipwayCore
import SlipwayPlatform
import SlipwayStore
import SlipwayTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An app `shop` on every host of an ``SSHLab``, run by a real `slipway up` on this machine: `python3 -m http.server`
/// serving `{"version":"V"}` at `/index.html` (and a `/healthz`) from a folder per version, on port ``port`` of every
/// host. Version 3.0.0 is broken: `Tests/Fixtures/flaky-server.py` answers 500 to every `/index.html` and passes its
/// health checks. The teardown stops the controller, then kills whatever the hosts' records and pid files name,
/// however the test ended.
final class HostsService: ServiceDirectory, @unchecked Sendable {
    /// The listener's port, the same on every host.
    static let port = 8080
    /// The value of the app's `API_KEY`, which must never be recorded.
    static let secret = "s3cr3t-4f9e1b"

    let lab: SSHLab
    let directory: String
    let api: Int
    private let controllers: ControllerRuns

    /// Writes `slipway.yaml`: the lab's hosts, and `shop` on all of them, one instance each, with `strategy` (YAML
    /// under `strategy:`), run by `run` (YAML under `run:`; by default the folder per version above), with `hooks`
    /// (YAML under `hooks:`) if any.
    ///
    /// Each host is given this build's data plane by a link in its `bin/<version>/` (the hosts share this
    /// machine's files), as if an earlier `slipway hosts install` had put it there: `slipway up` finds it in place by
    /// its SHA-256 and sends only the supervisor. Sending the large debug data plane over SSH to three hosts at once
    /// is `HostsCommandTests`' subject, and here it would only load the machine while other tests judge time.
    init(lab: SSHLab, strategy: String, instancesPerHost: Int = 1, run: String? = nil, hooks: String? = nil) throws {
        self.lab = lab
        for host in lab.hosts {
            let folder = HostInstaller.folder(directory: host.root)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: folder + "/slipway-dataplane",
                withDestinationPath: BuiltProducts.path("slipway-dataplane")
            )
        }
        directory = try makeTemporaryDirectory("slipway-hosts")
        controllers = ControllerRuns(directory: directory)
        api = try LoopbackHTTP.freePort()
        let site = directory + "/site"
        for version in ["1.0.0", "2.0.0"] {
            try FileManager.default.createDirectory(atPath: "\(site)/\(version)", withIntermediateDirectories: true)
            try "{\"version\":\"\(version)\"}".write(
                toFile: "\(site)/\(version)/index.html",
                atomically: true,
                encoding: .utf8
            )
            try "ok\n".write(toFile: "\(site)/\(version)/healthz", atomically: true, encoding: .utf8)
        }
        let serve = directory + "/serve.sh"
        try """
        #!/bin/sh
        if [ "$1" = 3.0.0 ]; then
          FLAKY_BIND=0.0.0.0 FLAKY_FAIL_PATH=/index.html exec python3 \(Fixtures.path("flaky-server.py")) "$2" \\
            \(directory)/no-such-flag
        fi
        exec python3 -m http.server "$2" --bind 0.0.0.0 --directory "\(site)/$1"
        """.write(toFile: serve, atomically: true, encoding: .utf8)
        chmod(serve, 0o755)
        let hosts = lab.hostEntries { _, host in host.name }
        let yaml = """
            controller:
              api: 127.0.0.1:\(api)
              stateDir: state
            hosts:
            \(hosts)
            apps:
              - name: shop
                listen: 0.0.0.0:\(Self.port)
                hosts: [\(lab.hosts.map(\.name).joined(separator: ", "))]
                instances: \(instancesPerHost)
                version: "1.0.0"
                run:
            \((run ?? "command: [\(serve), \"{version}\", \"{port}\"]").indented(6))
                  env: { API_KEY: \(Self.secret) }
                  stopGracePeriod: 3s
                health:
                  path: /healthz
                  interval: 500ms
                  timeout: 400ms
                  healthyThreshold: 1
                  unhealthyThreshold: 3
                  startDeadline: 20s
                strategy:
            \(strategy.indented(6))
                analysis:
                  interval: 500ms
                  minRequests: 10
                  checks: ["successRate >= 99%"]
                  failFast: ["successRate >= 95%"]
            """ + (hooks.map { "\n    hooks:\n" + $0.indented(6) } ?? "")
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
    }

    /// Starts `slipway up` (it attaches to what runs, or starts it).
    func startController() throws { try controllers.start() }

    /// `kill -9` of the running controller; returns once it is gone.
    func killController() { controllers.kill() }

    /// What the controllers wrote.
    var controllerLog: String { controllers.log }

    /// Every event's fields, as recorded, for looking for what must not be there.
    func recordedText() throws -> String {
        guard let log = try? EventLog(directory: directory + "/state", create: false) else { return "" }
        return try log.events(app: nil, limit: .max).map { "\($0.kind) \($0.fields)" }.joined(separator: "\n")
    }

    /// The addresses (without port) of the running instances of `version`, one per instance.
    func instanceAddresses(version: String) throws -> [String] {
        let stopped = Set(try events(.instanceExited).compactMap(\.instance))
        return try events(.instanceStarted).filter {
            $0.fields["version"]?.stringValue == version
                && !stopped.contains($0.instance ?? InstanceID(app: "", number: 0))
        }.compactMap { event in
            event.fields["address"]?.stringValue.map { String($0.prefix { $0 != ":" }) }
        }
    }

    /// Waits until `instances` instances are healthy and every host's listener answers with `version`.
    func waitUntilServing(version: String, instances: Int) async throws {
        try await waitUntil("\(instances) healthy instances", timeout: .seconds(60)) {
            guard controllers.isRunning else { throw ControllerEnded() }
            return try status()?.healthyCount == instances
        }
        for host in lab.hosts {
            try await waitUntil("\(host.name) serves \(version)", timeout: .seconds(60)) {
                guard controllers.isRunning else { throw ControllerEnded() }
                let reply = try? LoopbackHTTP.get(
                    port: Self.port,
                    path: "/index.html",
                    timeout: .seconds(2),
                    host: host.address
                )
                return reply?.status == 200 && reply?.body.contains("\"version\":\"\(version)\"") == true
            }
        }
    }

    /// Runs `body` with the controller started, then stops everything however it ended.
    func running(_ body: (HostsService) async throws -> Void) async throws {
        do {
            try startController()
            try await body(self)
        } catch {
            await tearDown()
            throw CaughtWithLog(error: error, log: controllerLog)
        }
        await tearDown()
    }

    /// The processes the hosts' records and pid files name that still run: supervisors, instances, data planes.
    func processesLeftOnHosts() async throws -> [String] {
        var left: [String] = []
        for host in lab.hosts {
            let script =
                "for f in \(host.root)/state/instances/*/*.supervisor; do [ -e \"$f\" ] || continue; "
                + "for p in $(sed -n 's/^pid=//p;s/^supervisor-pid=//p' \"$f\"); do "
                + "kill -0 $p 2>/dev/null && echo \"$f $p\"; done; done; "
                + "p=$(cat \(host.root)/state/dataplane.pid 2>/dev/null) && kill -0 $p 2>/dev/null && echo \"dataplane $p\"; true"
            let run = try await lab.ssh(host, script)
            left += run.output.split(separator: "\n").map { "\(host.name): \($0)" }
        }
        return left
    }

    /// SIGTERM to the controller (it stops the instances and the hosts' data planes), then SIGKILL to whatever the
    /// hosts' records and pid files still name.
    func tearDown() async {
        await controllers.terminate()
        for host in lab.hosts {
            let script =
                "for f in \(host.root)/state/instances/*/*.supervisor; do [ -e \"$f\" ] || continue; "
                + "kill -KILL -- -$(sed -n 's/^pid=//p' \"$f\") $(sed -n 's/^supervisor-pid=//p' \"$f\") "
                + "2>/dev/null; done; "
                + "[ -s \(host.root)/state/dataplane.pid ] && kill -KILL $(cat \(host.root)/state/dataplane.pid) "
                + "2>/dev/null; true"
            _ = try? await lab.ssh(host, script)
        }
    }

    /// The controller is no longer running.
    struct ControllerEnded: Error, CustomStringConvertible {
        var description: String { "slipway up ended" }
    }

    /// A failure, with what the controller wrote.
    struct CaughtWithLog: Error, CustomStringConvertible {
        var error: any Error
        var log: String
        var description: String { "\(error)\n--- slipway up ---\n\(log.suffix(4000))" }
    }
}
