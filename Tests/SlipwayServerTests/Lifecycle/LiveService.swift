import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An app run by real `slipway up` processes in a directory of its own, as a user runs it: controllers that can be
/// killed and started again, the data plane and instance supervisors they leave, and a teardown that stops
/// everything by PID and says what was still running.
final class LiveService: ServiceDirectory, @unchecked Sendable {
    let directory: String
    let listen: Int
    let api: Int
    private var controllers: [Process] = []
    private var dataPlanePids: Set<Int32> = []

    /// Writes `slipway.yaml` with one app `shop` on a fixed free port; `app` is the app's lines after `listen`, and
    /// `otherApps` more entries of `apps` (each starting `- name:`).
    init(app: String, otherApps: String = "", prefix: String = "slipway-life") throws {
        directory = try makeTemporaryDirectory(prefix)
        listen = try LoopbackHTTP.freePort()
        api = try LoopbackHTTP.freePort()
        let yaml = """
            controller:
              api: 127.0.0.1:\(api)
              stateDir: state
            apps:
              - name: shop
                listen: 127.0.0.1:\(listen)
            \(app.indented(4))
            \(otherApps.indented(2))
            """
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
    }

    /// The demo app's lines: `instances` of 1.0.0 with fast health checks, then `extra` (written for an app's
    /// place in ``ControllerFixture/demoConfig(instances:command:extra:apiPort:)``, four spaces in).
    static func demoApp(instances: Int = 3, extra: String = "", env: String = "") -> String {
        """
        instances: \(instances)
        version: "1.0.0"
        run:
          command: [\(BuiltProducts.path("slipway-demo-app")), --port, "{port}"]
          stopGracePeriod: 5s
        \(env.isEmpty ? "" : "  env:\n" + env.indented(4))
        health:
          path: /healthz
          interval: 200ms
          timeout: 150ms
          healthyThreshold: 1
          unhealthyThreshold: 2
          startDeadline: 10s
        \(extra.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("    ") ? $0.dropFirst(4) : $0 }.joined(separator: "\n"))
        """
    }

    /// A new directory holding an `index.html` with `body`, for `python3 -m http.server` to serve.
    static func staticSite(_ prefix: String, body: String = "<h1>home</h1>\n") throws -> String {
        let site = try makeTemporaryDirectory(prefix)
        try body.write(toFile: site + "/index.html", atomically: true, encoding: .utf8)
        return site
    }

    /// The `run.command` of `python3 -m http.server` on `{port}`, on loopback, serving `site`.
    static func httpServerCommand(site: String) -> String {
        "[python3, -m, http.server, \"{port}\", --bind, 127.0.0.1, --directory, \(site)]"
    }

    /// The `run.command` of `Tests/Fixtures/flaky-server.py` on `{port}`, answering 500 while `flag` exists.
    static func flakyServerCommand(flag: String) -> String {
        "[python3, \(Fixtures.path("flaky-server.py")), \"{port}\", \(flag)]"
    }

    /// Starts `slipway up` (it attaches to what runs, or starts it).
    @discardableResult
    func startController() throws -> Process {
        let process = try launchController(log: "up-\(controllers.count + 1).log")
        controllers.append(process)
        return process
    }

    /// `kill -9` of the running controller; returns once it is gone.
    func killController() {
        guard let process = controllers.last, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The data plane's pid as its pid file says.
    var dataPlanePid: Int32? {
        guard let text = try? String(contentsOfFile: directory + "/state/dataplane.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        dataPlanePids.insert(pid)
        return pid
    }

    /// Waits until `count` instances are healthy and the listener answers.
    func waitUntilServing(instances count: Int) async throws {
        try await waitUntil("\(count) healthy instances", timeout: .seconds(30)) {
            try status()?.healthyCount == count
        }
        try await waitUntil("the listener serves") {
            (try? LoopbackHTTP.get(port: listen, path: "/"))?.status == 200
        }
        _ = dataPlanePid
    }

    /// Waits until the current rollout has ended and returns its final state.
    func waitForRolloutEnd(timeout: Duration = .seconds(90)) async throws -> String {
        var state: String?
        try await waitUntil("the rollout ends", timeout: timeout) {
            state = try status()?.rollout?.state
            return state != nil && !["running", "paused", "rollingBack"].contains(state!)
        }
        return state ?? "?"
    }

    /// Every process the log, the pid files and this object know of: controllers, data planes, supervisors and
    /// instances.
    func knownPids() throws -> Set<Int32> {
        var pids = Set(controllers.map(\.processIdentifier))
        _ = dataPlanePid
        pids.formUnion(dataPlanePids)
        if let log = try? EventLog(directory: directory + "/state", create: false) {
            for event in try log.events(app: nil, limit: .max) {
                for key in ["pid", "supervisorPid"] {
                    guard
                        [.instanceStarted, .instanceAdopted, .dataPlaneStarted, .dataPlaneAttached].contains(
                            event.kind
                        ),
                        let pid = event.fields[key]?.intValue
                    else { continue }
                    pids.insert(Int32(pid))
                }
            }
        }
        // Supervisors leave a record whether or not a controller recorded their start.
        let records = directory + "/state/instances"
        for app in (try? FileManager.default.contentsOfDirectory(atPath: records)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(records)/\(app)")) ?? []
            where name.hasSuffix(".supervisor") {
                let text = (try? String(contentsOfFile: "\(records)/\(app)/\(name)", encoding: .utf8)) ?? ""
                for line in text.split(separator: "\n")
                where line.hasPrefix("supervisor-pid=") || line.hasPrefix("pid=") {
                    if let pid = Int32(line.split(separator: "=").last ?? "") { pids.insert(pid) }
                }
            }
        }
        if let lock = try? String(contentsOfFile: directory + "/state/controller.lock", encoding: .utf8),
            let pid = Int32(lock.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            pids.insert(pid)
        }
        pids.remove(getpid())
        return pids
    }

    /// Runs `body`, then ``tearDown()`` however it ended; returns the pids `slipway down` left running.
    func running(_ body: (LiveService) async throws -> Void) async throws -> [Int32] {
        do {
            try await body(self)
        } catch {
            await tearDown()
            throw error
        }
        return await tearDown()
    }

    /// Stops everything: `slipway down`, then SIGKILL to whatever is still alive (and its process group).
    /// Returns the pids that `slipway down` left running.
    @discardableResult
    func tearDown() async -> [Int32] {
        let pids = (try? knownPids()) ?? []
        if controllers.last?.isRunning == true {
            kill(controllers.last!.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while controllers.last!.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        }
        _ = try? await slipway(["down"], seconds: 60)
        let deadline = Date().addingTimeInterval(5)
        while pids.contains(where: processExists), Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let left = pids.filter(processExists).sorted()
        for pid in left {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        for process in controllers where process.isRunning { process.waitUntilExit() }
        return left
    }
}
