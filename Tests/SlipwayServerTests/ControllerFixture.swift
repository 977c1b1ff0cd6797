import Foundation
import Logging
import ServiceLifecycle
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport

/// A controller running in this process on a config written to a temporary directory.
final class ControllerFixture: Sendable {
    let directory: String
    let config: SlipwayConfig
    let controller: Controller
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Writes `yaml` (with `STATE` replaced by the state directory) and starts a controller on it; deploy windows
    /// are judged by `wallClock`. `prepare` runs in the directory before the controller starts.
    init(
        yaml: String,
        prepare: (String) throws -> Void = { _ in },
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) async throws {
        directory = try makeTemporaryDirectory("slipway-controller")
        let file = directory + "/slipway.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        try prepare(directory)
        var loaded = try ConfigLoader.load(file: file)
        // The tests call the API without credentials unless their config names a token: the open mode a config
        // asks for with `token: none` (the generated default has tests of its own).
        if !yaml.contains("token:") { loaded.controller.token = nil }
        config = loaded
        controller = try Controller(config: config, wallClock: wallClock)
        group = ServiceGroup(
            services: [controller],
            gracefulShutdownSignals: [],
            logger: Logger(label: "test")
        )
        let group = self.group
        running = Task { try await group.run() }
    }

    deinit {
        // A test that failed before stopping the controller must not leave its instances running: cancel the
        // controller (it then starts nothing more) and kill what runs until nothing does (bounded).
        running.cancel()
        var quietChecks = 0
        for _ in 0..<100 where quietChecks < 3 {
            let pids = controller.platform.runningProcesses.values
            quietChecks = pids.isEmpty ? quietChecks + 1 : 0
            for pid in pids { kill(-pid, SIGKILL) }
            usleep(50_000)
        }
    }

    var log: EventLog { controller.log }

    func status(_ app: String = "shop") throws -> AppStatus {
        AppStatus.fold(app: app, events: try log.events(app: app, limit: .max))
    }

    func events(_ kind: EventKind, app: String = "shop") throws -> [RecordedEvent] {
        try log.events(app: app, limit: .max).filter { $0.kind == kind }
    }

    /// Shuts the controller down gracefully and waits for it (bounded).
    func stop() async throws {
        await group.triggerGracefulShutdown()
        let running = self.running
        try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await running.value
                return true
            }
            tasks.addTask {
                try await Task.sleep(for: .seconds(30))
                return false
            }
            let finished = try await tasks.next() ?? false
            tasks.cancelAll()
            if !finished { throw WaitTimedOut(description: "controller did not stop within 30 s") }
        }
    }

    /// A config for one demo app; `extra` lines are appended to the app.
    static func demoConfig(
        instances: Int = 3,
        command: String? = nil,
        extra: String = "",
        apiPort: Int = 0,
        env: [String: String] = [:]
    ) -> String {
        let demo = BuiltProducts.path("slipway-demo-app")
        let environment =
            env.isEmpty
            ? ""
            : "\n      env: {"
                + env.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ") + "}"
        return """
            controller:
              api: 127.0.0.1:\(apiPort)
              stateDir: state
            apps:
              - name: shop
                listen: 127.0.0.1:0
                instances: \(instances)
                version: "1.0.0"
                run:
                  command: \(command ?? "[\(demo), --port, \"{port}\"]")\(environment)
                  stopGracePeriod: 5s
                health:
                  path: /healthz
                  interval: 200ms
                  timeout: 150ms
                  healthyThreshold: 1
                  unhealthyThreshold: 2
                  startDeadline: 10s
            \(extra)
            """
    }
}
