import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwaySupervision
import SlipwayTestSupport
import Testing

@testable import SlipwayPlatform

/// Runs real processes: `slipway-supervisor` with the built `slipway-demo-app`, small system commands and Python
/// servers under it. Every test ends with no process of its state directory left running.
@Suite(.serialized, .timeLimit(.minutes(1))) final class LocalPlatformTests {
    let state: String
    let platform: LocalPlatform

    init() throws {
        state = try makeTemporaryDirectory("slipway-platform")
        platform = LocalPlatform(stateDirectory: state)
    }

    /// The safety net for a test that failed half-way: kills by pid what its instances still run.
    deinit {
        InstanceProcesses(state: state).kill()
    }

    func request(
        _ command: [String],
        instance: String = "shop-1",
        logs: LogSpec = LogSpec(maxBytes: 1 << 20, keep: 2),
        grace: Duration = .seconds(5),
        workingDirectory: String? = nil
    ) -> LaunchRequest {
        LaunchRequest(
            app: "shop",
            version: "1.2.3",
            instance: InstanceID(instance),
            run: RunSpec(
                command: command,
                env: ["GREETING": "hello"],
                workingDirectory: workingDirectory,
                stopSignal: .terminate,
                stopGracePeriod: grace
            ),
            logs: logs,
            baseDirectory: state
        )
    }

    /// Requires that no supervisor, instance or process of an instance's group still runs (after a moment to
    /// finish ending); kills by pid whatever does.
    func expectNothingRunning(sourceLocation: Testing.SourceLocation = #_sourceLocation) async {
        let left = await InstanceProcesses(state: state).sweep()
        #expect(left.isEmpty, "left running: \(left.joined(separator: ", "))", sourceLocation: sourceLocation)
    }

    func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    // MARK: Starting and stopping

    @Test func startsTheDemoAppOnAFreeLoopbackPortWithItsIdentity() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo, "--port", "{port}"]))
        #expect(handle.host == "127.0.0.1")
        #expect(handle.port > 0)
        let supervisor = try #require(handle.supervisorPid)
        #expect(handle.reference == "supervisor:\(supervisor)")
        #expect(handle.pid > 0 && handle.pid != supervisor)
        try await waitUntil("the demo app to answer") { LoopbackHTTP.isAccepting(port: handle.port) }
        let response = try LoopbackHTTP.get(port: handle.port, path: "/")
        #expect(response.status == 200)
        let body = response.body
        #expect(body.contains("\"version\":\"1.2.3\""))
        #expect(body.contains("\"instance\":\"shop-1\""))
        #expect(body.contains("\"app\":\"shop\""))
        #expect(platform.runningProcesses[InstanceID("shop-1")] == handle.pid)
        #expect(platform.supervisorProcesses[InstanceID("shop-1")] == supervisor)
        // Its listening line reaches the size-capped stdout log.
        try await waitUntil("the stdout log") { text(handle.stdoutLog).contains("listening") }
        #expect(handle.stdoutLog == "\(state)/logs/shop/shop-1.out.log")
        #expect(handle.stderrLog == "\(state)/logs/shop/shop-1.err.log")
        let record = try #require(SupervisorRecord(contentsOf: "\(state)/instances/shop/shop-1.supervisor"))
        #expect(record.pid == handle.pid)
        #expect(record.supervisorPid == supervisor)
        #expect(record.stopSignal == SIGTERM)
        #expect(record.graceMilliseconds == 5000)
        await platform.stop(handle.id)
        #expect(platform.runningProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func passesTheInstanceEnvironment() async throws {
        let out = state + "/env.txt"
        let handle = try await platform.start(request(["/bin/sh", "-c", "env > \(out); sleep 30"]))
        try await waitUntil("the environment file") { text(out).contains("SLIPWAY_INSTANCE") }
        let env = text(out).split(separator: "\n").map(String.init)
        #expect(env.contains("PORT=\(handle.port)"))
        #expect(env.contains("SLIPWAY_APP=shop"))
        #expect(env.contains("SLIPWAY_VERSION=1.2.3"))
        #expect(env.contains("SLIPWAY_INSTANCE=shop-1"))
        #expect(env.contains("GREETING=hello"))
        await platform.stop(handle.id)
        await expectNothingRunning()
    }

    @Test func startsInTheWorkingDirectory() async throws {
        let handle = try await platform.start(request(["/bin/sh", "-c", "pwd"], workingDirectory: "/usr"))
        let exit = try await nextExit(platform)
        #expect(exit.status == .exited(0))
        #expect(text(handle.stdoutLog) == "/usr\n")
        await expectNothingRunning()
    }

    @Test func aMissingWorkingDirectoryIsAClearError() async throws {
        let thrown = await launchError { try await platform.start(request(["/bin/sh"], workingDirectory: "/nope")) }
        guard case .spawnFailed(let reason) = thrown else {
            Issue.record("expected spawnFailed, got \(String(describing: thrown))")
            return
        }
        #expect(reason.contains("working directory /nope"))
        #expect(platform.runningProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func gracefulStopEndsTheProcessWithTheConfiguredSignal() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo]))
        try await waitUntil("the demo app to answer") { LoopbackHTTP.isAccepting(port: handle.port) }
        await platform.stop(handle.id)
        let exit = try await nextExit(platform)
        #expect(exit.id == handle.id)
        #expect(exit.status == .exited(0))
        #expect(!processExists(handle.pid))
        #expect(platform.runningProcesses.isEmpty)
        #expect(platform.supervisorProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func aProcessIgnoringTheStopSignalIsKilledAfterTheGracePeriod() async throws {
        let handle = try await platform.start(
            request(
                ["/bin/sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"],
                grace: .milliseconds(400)
            )
        )
        try await waitUntil("the trap to be set") { text(handle.stdoutLog).contains("ready") }
        let started = ContinuousClock.now
        await platform.stop(handle.id)
        let elapsed = ContinuousClock.now - started
        let exit = try await nextExit(platform)
        #expect(exit.status == .signaled(SIGKILL))
        #expect(elapsed >= .milliseconds(400))
        #expect(elapsed < .seconds(5))
        #expect(!processExists(handle.pid))
        await expectNothingRunning()
    }

    @Test func stopAllStopsEveryInstanceAtOnce() async throws {
        let loop = ["/bin/sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"]
        let first = try await platform.start(request(loop, instance: "shop-1"))
        let second = try await platform.start(request(loop, instance: "shop-2"))
        try await waitUntil("both traps to be set") {
            text(first.stdoutLog).contains("ready") && text(second.stdoutLog).contains("ready")
        }
        #expect(Set(platform.runningProcesses.values) == [first.pid, second.pid])
        await platform.stopAll()
        #expect(platform.runningProcesses.isEmpty)
        let exits = [try await nextExit(platform), try await nextExit(platform)]
        #expect(Set(exits.map(\.id)) == [first.id, second.id])
        #expect(exits.allSatisfy { $0.status == .exited(0) })
        await expectNothingRunning()
    }

    @Test func stoppingAnUnknownInstanceReturnsAtOnce() async {
        await platform.stop(InstanceID("shop-404"))
    }

    // MARK: Exits

    @Test func noticesAKillWithItsSignal() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let handle = try await platform.start(request([demo]))
        kill(handle.pid, SIGKILL)
        let exit = try await nextExit(platform)
        #expect(exit.id == handle.id)
        #expect(exit.status == .signaled(SIGKILL))
        #expect(exit.status.description == "signal 9 (SIGKILL)")
        await expectNothingRunning()
    }

    @Test func anInstanceThatExitsAtOnceReportsItsStatusAndLastWords() async throws {
        _ = try await platform.start(request(["/bin/sh", "-c", "echo 'config missing: DATABASE_URL' >&2; exit 3"]))
        let exit = try await nextExit(platform)
        #expect(exit.status == .exited(3))
        #expect(exit.stderrTail == ["config missing: DATABASE_URL"])
        let record = try #require(ExitRecord(contentsOf: "\(state)/instances/shop/shop-1.exit"))
        #expect(record.ending == .exited(3))
        await expectNothingRunning()
    }

    @Test func anInstanceWhoseSupervisorIsKilledGoesWithItAndEndsWithAnUnknownStatus() async throws {
        let handle = try await platform.start(
            request(["/bin/sh", "-c", "echo 'last words' >&2; while true; do sleep 0.1; done"])
        )
        try await waitUntil("its last words") { text(handle.stderrLog).contains("last words") }
        kill(try #require(handle.supervisorPid), SIGKILL)
        let exit = try await nextExit(platform)
        #expect(exit.status == .unknown)
        #expect(exit.stderrTail == ["last words"])
        try await waitUntil("the instance to be gone") { InstanceProcesses.members(ofGroup: handle.pid).isEmpty }
        await expectNothingRunning()
    }

    @Test func aStopEndsEvenWhenTheSupervisorHangs() async throws {
        let impatient = LocalPlatform(state, stopMargin: .zero)
        let handle = try await impatient.start(
            request(["/bin/sh", "-c", "while true; do sleep 0.1; done"], grace: .milliseconds(300))
        )
        let supervisor = try #require(handle.supervisorPid)
        kill(supervisor, SIGSTOP)
        let started = ContinuousClock.now
        await impatient.stop(handle.id)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(try await nextExit(impatient).status == .unknown)
        try await waitUntil("the instance to be gone") { InstanceProcesses.members(ofGroup: handle.pid).isEmpty }
        await expectNothingRunning()
    }

    // MARK: Launch errors

    @Test func aMissingExecutableIsAClearErrorNotAHang() async throws {
        await #expect(
            throws: LaunchError.executableNotFound("./no-such-server", searched: [state + "/./no-such-server"])
        ) {
            try await platform.start(request(["./no-such-server"]))
        }
        let thrown = await launchError { try await platform.start(request(["no-such-server-anywhere"])) }
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

    @Test func aMissingSupervisorIsAClearError() async throws {
        let lost = LocalPlatform(stateDirectory: state, supervisorPath: state + "/no-such-supervisor")
        let thrown = await launchError { try await lost.start(request(["/bin/sh", "-c", "exit 0"])) }
        guard case .spawnFailed(let reason) = thrown else {
            Issue.record("expected spawnFailed, got \(String(describing: thrown))")
            return
        }
        #expect(reason.contains("no-such-supervisor"))
        #expect(lost.runningProcesses.isEmpty)
    }

    // MARK: Logs

    @Test func logsRotateAtTheirSizeCap() async throws {
        let script =
            "i=0; while [ $i -lt 400 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz0123456789; i=$((i+1)); done"
        let handle = try await platform.start(
            request(["/bin/sh", "-c", script], logs: LogSpec(maxBytes: 4096, keep: 2))
        )
        let exit = try await nextExit(platform)
        #expect(exit.status == .exited(0))
        #expect(size(handle.stdoutLog) > 0)
        #expect(size(handle.stdoutLog) <= 4096)
        #expect(size(handle.stdoutLog + ".1") > 0)
        #expect(size(handle.stdoutLog + ".1") <= 4096)
        #expect(size(handle.stdoutLog + ".2") > 0)
        #expect(!FileManager.default.fileExists(atPath: handle.stdoutLog + ".3"))
        #expect(text(handle.stdoutLog).hasSuffix("line-399-abcdefghijklmnopqrstuvwxyz0123456789\n"))
        await expectNothingRunning()
    }

    /// The output keeps being captured, and rotated, when the platform that started the instance is gone.
    @Test func aServerKeepsLoggingAfterItsFirstPlatformIsGone() async throws {
        let server = Fixtures.path("access-log-server.py")
        var first: LocalPlatform? = LocalPlatform(stateDirectory: state)
        let handle = try await first!.start(request(["python3", server], logs: LogSpec(maxBytes: 4096, keep: 2)))
        try await waitUntil("the server to answer") { LoopbackHTTP.isAccepting(port: handle.port) }
        #expect(try LoopbackHTTP.get(port: handle.port, path: "/health").status == 200)
        try await waitUntil("the first request in both logs") {
            text(handle.stdoutLog).contains("GET /health") && text(handle.stderrLog).contains("target=/health")
        }
        first = nil

        let successor = LocalPlatform(stateDirectory: state)
        let adopted = try #require(
            await successor.adopt(handle.id, reference: handle.reference, host: handle.host, port: handle.port)
        )
        #expect(adopted.pid == handle.pid)
        let root = try LoopbackHTTP.get(port: handle.port, path: "/")
        #expect(root.body.contains("\"instance\": \"shop-1\""))
        for number in 0..<100 {
            #expect(try LoopbackHTTP.get(port: handle.port, path: "/work?ms=0&n=\(number)").status == 200)
        }
        try await waitUntil("the last request in both logs") {
            text(handle.stdoutLog).contains("GET /work?ms=0&n=99 HTTP/1.1\" 200")
                && text(handle.stderrLog).contains("target=/work?ms=0&n=99 status=200")
        }
        for log in [handle.stdoutLog, handle.stderrLog] {
            #expect(size(log) <= 4096)
            #expect(size(log + ".1") > 0)
            #expect(size(log + ".1") <= 4096)
        }
        await successor.stop(handle.id)
        let exit = try await nextExit(successor)
        #expect(exit.status == .exited(0))
        #expect(exit.stderrTail.last == "info stopped")
        await expectNothingRunning()
    }

    /// An instance whose start no controller recorded (it was stopped in between) is stopped by the next one, and its
    /// number is never given again.
    @Test func anInstanceNobodyRecordedIsReclaimed() async throws {
        let server = Fixtures.path("access-log-server.py")
        var first: LocalPlatform? = LocalPlatform(stateDirectory: state)
        let kept = try await first!.start(request(["python3", server], instance: "shop-4"))
        let stray = try await first!.start(request(["python3", server], instance: "shop-7"))
        try await waitUntil("both servers to answer") {
            LoopbackHTTP.isAccepting(port: kept.port) && LoopbackHTTP.isAccepting(port: stray.port)
        }
        first = nil

        let successor = LocalPlatform(stateDirectory: state)
        let reclaimed = await successor.reclaim(app: "shop", keeping: [kept.id])
        #expect(reclaimed.stopped == [stray.id])
        #expect(reclaimed.highestNumber == 7)
        try await waitUntil("the stray to stop") { !LoopbackHTTP.isAccepting(port: stray.port) }
        #expect(LoopbackHTTP.isAccepting(port: kept.port))
        // Asking again stops nothing more.
        try await waitUntil("the stray's supervisor to end") {
            await successor.reclaim(app: "shop", keeping: [kept.id]).stopped.isEmpty
        }
        let adopted = try #require(
            await successor.adopt(kept.id, reference: kept.reference, host: kept.host, port: kept.port)
        )
        await successor.stop(adopted.id)
        await expectNothingRunning()
    }

    @Test(.enabled(if: python3 != nil)) func pythonsHTTPServerServesAndLogsEachRequest() async throws {
        let handle = try await platform.start(
            request(["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"], workingDirectory: state)
        )
        try await waitUntil("the server to answer") { LoopbackHTTP.isAccepting(port: handle.port) }
        for _ in 0..<3 {
            let reply = try LoopbackHTTP.get(port: handle.port, path: "/")
            #expect(reply.status == 200)
            #expect(reply.body.contains("Directory listing"))
        }
        try await waitUntil("three request lines in the stderr log") {
            text(handle.stderrLog).components(separatedBy: "\"GET / HTTP/1.1\" 200").count - 1 == 3
        }
        await platform.stop(handle.id)
        let exit = try await nextExit(platform)
        #expect(exit.status == .signaled(SIGTERM))
        #expect(exit.stderrTail.last?.contains("\"GET / HTTP/1.1\" 200") == true)
        await expectNothingRunning()
    }

    // MARK: Adoption

    /// The first platform is no longer used, as when its controller has died: the supervisor is a process of its
    /// own, and a second platform takes the instance over from its reference.
    @Test func aSecondPlatformAdoptsByReferenceStopsAndLearnsTheRealExit() async throws {
        let handle = try await platform.start(
            request(["/bin/sh", "-c", "trap 'exit 5' TERM; echo ready; while true; do sleep 0.1; done"])
        )
        // Stopped before its trap is set, the shell would die of the signal instead of exiting 5.
        try await waitUntil("the trap to be set") { text(handle.stdoutLog).contains("ready") }
        let successor = LocalPlatform(stateDirectory: state)
        let adopted = try #require(
            await successor.adopt(handle.id, reference: handle.reference, host: handle.host, port: handle.port)
        )
        #expect(adopted.pid == handle.pid)
        #expect(adopted.supervisorPid == handle.supervisorPid)
        #expect(adopted.reference == handle.reference)
        #expect(adopted.stdoutLog == handle.stdoutLog)
        #expect(successor.runningProcesses[handle.id] == handle.pid)
        // Taken already.
        #expect(await successor.adopt(handle.id, reference: handle.reference, host: "127.0.0.1", port: 1) == nil)
        await successor.stop(handle.id)
        let exit = try await nextExit(successor)
        #expect(exit.id == handle.id)
        #expect(exit.status == .exited(5))
        #expect(successor.runningProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func anExitWhileNobodyWatchedIsLearnedOnAdoption() async throws {
        let handle = try await platform.start(
            request(["/bin/sh", "-c", "sleep 0.3; echo 'fatal: disk full' >&2; exit 7"])
        )
        let supervisor = try #require(handle.supervisorPid)
        try await waitUntil("the supervisor to end") { !processExists(supervisor) }
        let successor = LocalPlatform(stateDirectory: state)
        let adopted = try #require(
            await successor.adopt(handle.id, reference: handle.reference, host: handle.host, port: handle.port)
        )
        #expect(adopted.pid == handle.pid)
        let exit = try await nextExit(successor)
        #expect(exit.id == handle.id)
        #expect(exit.status == .exited(7))
        #expect(exit.stderrTail == ["fatal: disk full"])
        #expect(exit.ranFor >= .milliseconds(300))
        #expect(successor.runningProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func aSignalWhileNobodyWatchedIsLearnedOnAdoption() async throws {
        let handle = try await platform.start(
            request(["/bin/sh", "-c", "echo 'about to go' >&2; while true; do sleep 0.1; done"])
        )
        try await waitUntil("its stderr") { text(handle.stderrLog).contains("about to go") }
        kill(handle.pid, SIGUSR2)
        try await waitUntil("the supervisor to end") { !processExists(handle.supervisorPid ?? 0) }
        let successor = LocalPlatform(stateDirectory: state)
        _ = try #require(
            await successor.adopt(handle.id, reference: handle.reference, host: handle.host, port: handle.port)
        )
        let exit = try await nextExit(successor)
        #expect(exit.status == .signaled(SIGUSR2))
        #expect(exit.stderrTail == ["about to go"])
        await expectNothingRunning()
    }

    /// Started by a shell that exits at once, the supervisor has no parent left that knows it, as when the
    /// controller that started it has died.
    @Test func aSupervisorWhoseStarterIsGoneIsAdoptedAndStopped() async throws {
        let arguments = SupervisorArguments(
            instance: "shop-4",
            app: "shop",
            stateDirectory: state,
            logMaxBytes: 1 << 20,
            logKeep: 1,
            stopSignal: SIGTERM,
            graceMilliseconds: 5000,
            workingDirectory: nil,
            program: "/bin/sh",
            arguments: ["sh", "-c", "trap 'echo bye >&2; exit 3' TERM; echo ready; while true; do sleep 0.1; done"]
        )
        let command = ([BuiltProducts.path("slipway-supervisor")] + arguments.words).map(shellQuoted)
        let pidFile = state + "/supervisor.pid"
        let starter = Process()
        starter.executableURL = URL(fileURLWithPath: "/bin/sh")
        starter.arguments = [
            "-c", "\(command.joined(separator: " ")) </dev/null >/dev/null 2>&1 & echo $! > \(pidFile)",
        ]
        starter.environment = ProcessInfo.processInfo.environment.merging(["SLIPWAY_INSTANCE": "shop-4"]) { $1 }
        try starter.run()
        starter.waitUntilExit()
        let supervisor = try #require(Int32(text(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)))
        try await waitUntil("its record") {
            SupervisorRecord(contentsOf: "\(state)/instances/shop/shop-4.supervisor") != nil
        }

        let id = InstanceID("shop-4")
        let adopted = try #require(
            await platform.adopt(id, reference: "supervisor:\(supervisor)", host: "127.0.0.1", port: 1)
        )
        #expect(adopted.supervisorPid == supervisor)
        #expect(adopted.pid > 0)
        #expect(LocalPlatform.runs(id, pid: adopted.pid))
        try await waitUntil("its output") { text(adopted.stdoutLog).contains("ready") }
        await platform.stop(id)
        let exit = try await nextExit(platform)
        #expect(exit.status == .exited(3))
        #expect(exit.stderrTail.last == "bye")
        #expect(platform.runningProcesses.isEmpty)
        await expectNothingRunning()
    }

    @Test func adoptionNeedsAReferenceToThatInstance() async throws {
        let other = InstanceID("shop-9")
        for reference in ["", "nonsense", "supervisor:", "supervisor:0", "supervisor:-4", "pid:x", "ssh:12"] {
            #expect(await platform.adopt(other, reference: reference, host: "127.0.0.1", port: 1) == nil)
        }
        // This process is neither a supervisor nor an instance.
        #expect(await platform.adopt(other, reference: "supervisor:\(getpid())", host: "127.0.0.1", port: 1) == nil)
        #expect(await platform.adopt(other, reference: "pid:\(getpid())", host: "127.0.0.1", port: 1) == nil)
        let handle = try await platform.start(request(["/bin/sh", "-c", "sleep 30"]))
        // Another instance's supervisor and process.
        #expect(await platform.adopt(other, reference: handle.reference, host: "127.0.0.1", port: 1) == nil)
        #expect(await platform.adopt(other, reference: "pid:\(handle.pid)", host: "127.0.0.1", port: 1) == nil)
        await platform.stop(handle.id)
        // Gone, and no record under this state directory names that supervisor.
        let elsewhere = LocalPlatform(stateDirectory: try makeTemporaryDirectory("slipway-platform"))
        #expect(await elsewhere.adopt(handle.id, reference: handle.reference, host: "127.0.0.1", port: 1) == nil)
        await expectNothingRunning()
    }

    @Test func anInstanceStartedWithoutASupervisorIsAdoptedByItsPid() async throws {
        let handle = try await platform.start(request(["/bin/sh", "-c", "while true; do sleep 0.1; done"]))
        let successor = LocalPlatform(stateDirectory: state)
        let adopted = try #require(
            await successor.adopt(handle.id, reference: "pid:\(handle.pid)", host: handle.host, port: handle.port)
        )
        #expect(adopted.pid == handle.pid)
        #expect(adopted.supervisorPid == nil)
        #expect(adopted.reference == "pid:\(handle.pid)")
        await successor.stop(handle.id)
        #expect(try await nextExit(successor).status == .unknown)
        // Its supervisor, still there, knows better.
        #expect(try await nextExit(platform).status == .signaled(SIGTERM))
        await expectNothingRunning()
    }
}

/// The next exit `platform` reports, within 15 s.
func nextExit(_ platform: LocalPlatform) async throws -> InstanceExit {
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

/// The error a start threw, or nil.
func launchError(_ start: () async throws -> InstanceHandle) async -> LaunchError? {
    do {
        _ = try await start()
        return nil
    } catch {
        return error as? LaunchError
    }
}

/// `python3` on the `PATH`, if there is one.
let python3 = try? ExecutableResolver.resolve("python3", baseDirectory: "/").get()

/// `word` quoted for `/bin/sh`.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
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

    @Test func theSupervisorIsFoundBesideTheRunningExecutable() {
        #expect(LocalPlatform.bundledSupervisorPath == BuiltProducts.path("slipway-supervisor"))
    }
}
