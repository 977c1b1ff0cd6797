import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

/// The controller end to end with real `slipway-demo-app` processes.
@Suite(.serialized) struct ControllerTests {
    @Test func holdsTheInstanceCountAndReplacesAKilledInstance() async throws {
        let fixture = try await ControllerFixture(yaml: ControllerFixture.demoConfig())
        try await waitUntil("3 healthy instances") { try fixture.status().healthyCount == 3 }
        let before = try fixture.status()
        #expect(before.supervision == .running)
        #expect(before.instances.map(\.id.rawValue) == ["shop-1", "shop-2", "shop-3"])
        let pids = before.instances.compactMap(\.pid).map(Int32.init)
        #expect(pids.count == 3)

        let victim = before.instances[1]
        let killedAt = Date()
        kill(Int32(victim.pid!), SIGKILL)
        try await waitUntil("a healthy replacement") {
            let status = try fixture.status()
            return status.healthyCount == 3 && !status.instances.contains { $0.id == victim.id }
        }
        let replacedIn = Date().timeIntervalSince(killedAt)
        // Health interval (200 ms) plus the start time of the demo app, with room for a loaded machine.
        #expect(replacedIn < 10)

        let exit = try #require(try fixture.events(.instanceExited).first)
        #expect(exit.instance == victim.id)
        #expect(exit.fields["status"] == "signal 9 (SIGKILL)")
        #expect(exit.fields["expected"] == false)
        let replaced = try #require(try fixture.events(.instanceReplaced).first)
        #expect(replaced.instance == victim.id)
        #expect(replaced.fields["by"] == "shop-4")

        let all = try fixture.status().instances.compactMap(\.pid).map(Int32.init)
        try await fixture.stop()
        // Graceful shutdown leaves no process behind.
        for pid in all { #expect(!processExists(pid)) }
        #expect(try fixture.status().supervision == .stopped)
        let exits = try fixture.events(.instanceExited).dropFirst()
        #expect(exits.count == 3)
        #expect(exits.allSatisfy { $0.fields["expected"] == true && $0.fields["status"] == "status 0" })
    }

    @Test func aCrashLoopBacksOffExponentially() async throws {
        let yaml = ControllerFixture.demoConfig(
            instances: 1,
            command: #"[/bin/sh, -c, "echo crashing >&2; exit 1"]"#,
            extra: """
                    restart:
                      initialBackoff: 100ms
                      maxBackoff: 400ms
                """
        )
        let fixture = try await ControllerFixture(yaml: yaml)
        try await waitUntil("four backoff events") { try fixture.events(.crashLoopBackoff).count >= 4 }
        try await fixture.stop()
        let backoffs = try fixture.events(.crashLoopBackoff)
        #expect(backoffs.prefix(4).map { $0.fields["delay"]?.stringValue } == ["100ms", "200ms", "400ms", "400ms"])
        #expect(backoffs[0].fields["failures"] == 2)
        let exit = try #require(try fixture.events(.instanceExited).first)
        #expect(exit.fields["stderrTail"] == .array(["crashing"]))
        // Backoff means the replacements really waited: ≥ 100+200+400 ms between the first and fifth start.
        let starts = try fixture.events(.instanceStarted)
        #expect(starts.count >= 5)
        #expect(starts[4].time.timeIntervalSince(starts[0].time) >= 0.7)
    }

    @Test func anInstanceThatNeverBecomesHealthyIsReplaced() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        // Probes with room to answer on a busy machine: the last one must be the app's 503, not a timeout.
        let yaml = ControllerFixture.demoConfig(instances: 1, command: "[\(demo), --fail-health]")
            .replacingOccurrences(of: "startDeadline: 10s", with: "startDeadline: 1s")
            .replacingOccurrences(of: "interval: 200ms", with: "interval: 300ms")
            .replacingOccurrences(of: "timeout: 150ms", with: "timeout: 300ms")
        let fixture = try await ControllerFixture(yaml: yaml)
        try await waitUntil("a failed start and its replacement") {
            try !fixture.events(.instanceFailedToStart).isEmpty && fixture.events(.instanceStarted).count >= 2
        }
        try await fixture.stop()
        let failed = try #require(try fixture.events(.instanceFailedToStart).first)
        #expect(failed.instance == InstanceID("shop-1"))
        #expect(failed.fields["reason"] == "not healthy within 1s; last probe: HTTP 503")
        let stopping = try fixture.events(.instanceStopping).first
        #expect(stopping?.instance == InstanceID("shop-1"))
        #expect(try fixture.events(.instanceReplaced).first?.fields["by"] == "shop-2")
    }

    @Test func anInstanceThatTurnsAndStaysUnhealthyIsReplaced() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let fixture = try await ControllerFixture(
            yaml: ControllerFixture.demoConfig(instances: 1, command: "[\(demo), --fail-health-after, \"1\"]")
        )
        try await waitUntil("a healthy instance") { try fixture.status().healthyCount == 1 }
        let first = try #require(try fixture.status().instances.first)
        // One counted request flips its health check to 503.
        #expect(try LoopbackHTTP.get(port: try #require(first.port), path: "/").status == 200)
        try await waitUntil("the replacement to be healthy") {
            let status = try fixture.status()
            return status.healthyCount == 1 && status.instances.first?.id != first.id
        }
        try await fixture.stop()
        let unhealthy = try #require(try fixture.events(.instanceUnhealthy).first)
        #expect(unhealthy.instance == first.id)
        #expect(unhealthy.fields["reason"] == "HTTP 503")
        // Replaced only after staying unhealthy for unhealthyThreshold × interval (2 × 200 ms).
        let stopping = try #require(try fixture.events(.instanceStopping).first)
        #expect(stopping.instance == first.id)
        #expect(stopping.fields["reason"]?.stringValue?.hasPrefix("unhealthy for ") == true)
        #expect(stopping.time.timeIntervalSince(unhealthy.time) >= 0.4)
        #expect(try fixture.events(.instanceReplaced).first?.fields["by"] == "shop-2")
    }

    @Test func instanceNumbersContinueAcrossRestarts() async throws {
        let first = try await ControllerFixture(yaml: ControllerFixture.demoConfig(instances: 2))
        try await waitUntil("2 healthy instances") { try first.status().healthyCount == 2 }
        try await first.stop()
        let file = first.directory + "/slipway.yaml"
        let config = try ConfigLoader.load(file: file)
        let second = try Controller(config: config)
        #expect(try second.log.highestInstanceNumber(app: "shop") == 2)
    }
}

@Suite struct ControllerStartRefusalTests {
    @Test func aPortInUseIsRefusedBeforeAnythingStarts() throws {
        let directory = try makeTemporaryDirectory()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        listen(listener, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let yaml = ControllerFixture.demoConfig().replacingOccurrences(
            of: "listen: 127.0.0.1:0",
            with: "listen: 127.0.0.1:\(port)"
        )
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: directory + "/slipway.yaml")
        var thrown: Controller.StartError?
        do { _ = try Controller(config: config) } catch { thrown = error }
        guard case .config(let diagnostics) = thrown else {
            Issue.record("expected a config error, got \(String(describing: thrown))")
            return
        }
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.keyPath == "apps[0].listen")
        #expect(diagnostics.first?.message == "127.0.0.1:\(port) is already in use")
        #expect(diagnostics.first?.line == 6)
        // Nothing was created.
        #expect(!FileManager.default.fileExists(atPath: directory + "/state"))
    }

    @Test func aMissingCommandIsRefusedWithItsPosition() throws {
        let directory = try makeTemporaryDirectory()
        let yaml = ControllerFixture.demoConfig(command: "[./bin/no-such-server, --port, \"{port}\"]")
        try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: directory + "/slipway.yaml")
        let problems = Preflight.checkFiles(config)
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == "apps[0].run.command[0]")
        #expect(
            problems.first?.message
                == "executable \"./bin/no-such-server\" not found (looked in: \(directory)/./bin/no-such-server)"
        )
        #expect(problems.first?.line == 10)
    }

    @Test func aSecondControllerOnTheSameStateIsRefused() throws {
        let directory = try makeTemporaryDirectory()
        try ControllerFixture.demoConfig().write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: directory + "/slipway.yaml")
        let first = try Controller(config: config)
        var thrown: Controller.StartError?
        do { _ = try Controller(config: config) } catch { thrown = error }
        guard case .locked(let reason) = thrown else {
            Issue.record("expected a lock refusal, got \(String(describing: thrown))")
            return
        }
        #expect(reason.contains("another controller (pid \(getpid())) is already running"))
        _ = first
    }
}
