import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Testing

@testable import SlipwayPlatform

/// Runs real processes: the built `slipway-demo-app` and small system commands.
@Suite(.serialized) struct LocalPlatformTests {
    let state: String
    let platform: LocalPlatform

    init() throws {
        state = try makeTemporaryDirectory("slipway-platform")
        platform = LocalPlatform(stateDirectory: state)
    }

    func request(
        _ command: [String],
        instance: String = "shop-1",
        logs: LogSpec = LogSpec(maxBytes: 1 << 20, keep: 2)
    ) -> LaunchRequest {
        LaunchRequest(
            app: "shop",
            version: "1.2.3",
            instance: InstanceID(instance),
            run: RunSpec(
                command: command,
                env: ["GREETING": "hello"],
                workingDirectory: nil,
                stopSignal: .terminate,
                stopGracePeriod: .seconds(5)
            ),
            logs: logs,
            baseDirectory: state
        )
    }

    func nextExit() async throws -> InstanceExit {
        let exits = platform.exits
        return try await withThrowingTaskGroup(of: InstanceExit?.self) { group in
            group.addTask {
                for await exit in exits { return exit }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(15))
                return nil
            }
            defer { group.cancelAll() }
            guard let exit = try await group.next() ?? nil else { throw WaitTimedOut(description: "no exit in 15 s") }
            return exit
        }
    }

    @Test func startsTheDemoAppOnAFreeLoopbackPortWithItsIdentity() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo, "--port", "{port}"]))
        defer { kill(handle.pid, SIGKILL) }
        #expect(handle.host == "127.0.0.1")
        #expect(handle.port > 0)
        var response: LoopbackHTTP.Reply?
        try await waitUntil("the demo app to answer") {
            response = try? LoopbackHTTP.get(port: handle.port, path: "/")
            return response?.status == 200
        }
        let body = response?.body ?? ""
        #expect(body.contains("\"version\":\"1.2.3\""))
        #expect(body.contains("\"instance\":\"shop-1\""))
        #expect(body.contains("\"app\":\"shop\""))
        #expect(platform.runningProcesses[InstanceID("shop-1")] == handle.pid)
        // Its listening line reaches the size-capped stdout log.
        try await waitUntil("the stdout log") {
            ((try? String(contentsOfFile: handle.stdoutLog, encoding: .utf8)) ?? "").contains("listening")
        }
        #expect(handle.stdoutLog == "\(state)/logs/shop/shop-1.out.log")
    }

    @Test func passesTheInstanceEnvironment() async throws {
        let out = state + "/env.txt"
        let handle = try await platform.start(request(["/bin/sh", "-c", "env > \(out); sleep 30"]))
        defer { kill(-handle.pid, SIGKILL) }
        try await waitUntil("the environment file") {
            ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("SLIPWAY_INSTANCE")
        }
        let env = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(env.contains("PORT=\(handle.port)"))
        #expect(env.contains("SLIPWAY_APP=shop"))
        #expect(env.contains("SLIPWAY_VERSION=1.2.3"))
        #expect(env.contains("SLIPWAY_INSTANCE=shop-1"))
        #expect(env.contains("GREETING=hello"))
    }

    @Test func gracefulStopEndsTheProcessWithTheConfiguredSignal() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo]))
        try await waitUntil("the demo app to answer") { LoopbackHTTP.isAccepting(port: handle.port) }
        await platform.stop(handle.id, signal: SIGTERM, grace: .seconds(5))
        let exit = try await nextExit()
        #expect(exit.id == handle.id)
        #expect(exit.status == .exited(0))
        #expect(!processExists(handle.pid))
        #expect(platform.runningProcesses.isEmpty)
    }

    @Test func aProcessIgnoringTheStopSignalIsKilledAfterTheGracePeriod() async throws {
        let handle = try await platform.start(request(["/bin/sh", "-c", "trap '' TERM; while true; do sleep 1; done"]))
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        await platform.stop(handle.id, signal: SIGTERM, grace: .milliseconds(400))
        let elapsed = ContinuousClock.now - started
        let exit = try await nextExit()
        #expect(exit.status == .signaled(SIGKILL))
        #expect(elapsed >= .milliseconds(400))
        #expect(elapsed < .seconds(5))
        #expect(!processExists(handle.pid))
    }

    @Test func noticesAKillWithItsSignal() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo]))
        kill(handle.pid, SIGKILL)
        let exit = try await nextExit()
        #expect(exit.id == handle.id)
        #expect(exit.status == .signaled(SIGKILL))
        #expect(exit.status.description == "signal 9 (SIGKILL)")
    }

    @Test func anInstanceThatExitsAtOnceReportsItsStatusAndLastWords() async throws {
        _ = try await platform.start(request(["/bin/sh", "-c", "echo 'config missing: DATABASE_URL' >&2; exit 3"]))
        let exit = try await nextExit()
        #expect(exit.status == .exited(3))
        #expect(exit.stderrTail == ["config missing: DATABASE_URL"])
    }

    @Test func aMissingExecutableIsAClearErrorNotAHang() async throws {
        await #expect(
            throws: LaunchError.executableNotFound("./no-such-server", searched: [state + "/./no-such-server"])
        ) {
            try await platform.start(request(["./no-such-server"]))
        }
        var thrown: LaunchError?
        do { _ = try await platform.start(request(["no-such-server-anywhere"])) } catch { thrown = error }
        guard case .executableNotFound("no-such-server-anywhere", let searched) = thrown else {
            Issue.record("expected executableNotFound, got \(String(describing: thrown))")
            return
        }
        #expect(searched.contains("/usr/bin"))
        #expect(platform.runningProcesses.isEmpty)
    }

    @Test func aDirectoryIsNotAnExecutable() async throws {
        await #expect(throws: LaunchError.notExecutable("/tmp")) {
            try await platform.start(request(["/tmp"]))
        }
    }

    @Test func logsRotateAtTheirSizeCap() async throws {
        let script = "i=0; while [ $i -lt 400 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz0123456789; i=$((i+1)); done"
        let handle = try await platform.start(
            request(["/bin/sh", "-c", script], logs: LogSpec(maxBytes: 4096, keep: 2))
        )
        let exit = try await nextExit()
        #expect(exit.status == .exited(0))
        let manager = FileManager.default
        let size = { (path: String) in (try? manager.attributesOfItem(atPath: path)[.size] as? Int) ?? -1 }
        #expect(size(handle.stdoutLog) > 0)
        #expect(size(handle.stdoutLog) <= 4096)
        #expect(size(handle.stdoutLog + ".1") > 0)
        #expect(size(handle.stdoutLog + ".1") <= 4096)
        #expect(size(handle.stdoutLog + ".2") > 0)
        #expect(!manager.fileExists(atPath: handle.stdoutLog + ".3"))
        let newest = try String(contentsOfFile: handle.stdoutLog, encoding: .utf8)
        #expect(newest.hasSuffix("line-399-abcdefghijklmnopqrstuvwxyz0123456789\n"))
    }
}

@Suite struct ExecutableResolverTests {
    @Test func findsBareNamesOnThePathAndBesideItself() throws {
        #expect(try ExecutableResolver.resolve("sh", baseDirectory: "/", path: "/nonexistent:/bin").get() == "/bin/sh")
        // Not on the PATH given, but beside the running executable (how `slipway` finds `slipway-demo-app`).
        let demo = try ExecutableResolver.resolve("slipway-demo-app", baseDirectory: "/", path: "/nonexistent").get()
        #expect(demo == BuiltProducts.path("slipway-demo-app"))
    }

    @Test func resolvesRelativePathsAgainstTheConfigDirectory() throws {
        #expect(try ExecutableResolver.resolve("./sh", baseDirectory: "/bin", path: nil).get() == "/bin/./sh")
        #expect(try ExecutableResolver.resolve("../bin/sh", baseDirectory: "/usr", path: nil).get() == "/usr/../bin/sh")
    }
}

@Suite struct RotatingLogFileTests {
    @Test func aLargeWriteFillsTheCurrentFileThenRotates() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/x.log"
        let file = try RotatingLogFile(path: path, maxBytes: 4096, keep: 1)
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 26 + 97) }
        bytes.withUnsafeBytes { file.write($0) }
        let size = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1 }
        // 10,000 bytes at 4,096 per file: two rotations; with keep 1 the oldest 4,096 are gone.
        #expect(size(path) == 10_000 - 2 * 4096)
        #expect(size(path + ".1") == 4096)
        #expect(!FileManager.default.fileExists(atPath: path + ".2"))
        let current = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(current) == Array(bytes.suffix(10_000 - 2 * 4096)))
    }

    @Test func remembersTheLastLines() throws {
        let directory = try makeTemporaryDirectory()
        let file = try RotatingLogFile(path: directory + "/y.log", maxBytes: 1 << 20, keep: 0)
        Array("one\ntwo\n\nthree\nfour".utf8).withUnsafeBytes { file.write($0) }
        #expect(file.lastLines(3) == ["two", "three", "four"])
    }
}
