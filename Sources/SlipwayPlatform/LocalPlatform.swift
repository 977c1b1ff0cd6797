import Logging
import SlipwayConfig
import SlipwayCore
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs instances as processes on this machine, each on a free loopback port in a session of its own.
///
/// Commands run as argv, never through a shell. Standard output and error go to size-capped files under
/// `<stateDirectory>/logs/<app>/`. The instance learns its port and identity from `PORT`, `SLIPWAY_APP`,
/// `SLIPWAY_VERSION` and `SLIPWAY_INSTANCE`.
public final class LocalPlatform: Platform {
    private struct Entry {
        var pid: Int32
        var stops: AsyncStream<StopRequest>.Continuation
    }

    private struct StopRequest: Sendable {
        var signal: Int32
        var grace: Duration
    }

    private let logDirectory: String
    private let logger: Logger
    private let running = Mutex<[InstanceID: Entry]>([:])
    private let exitWaiters = Mutex<[InstanceID: [CheckedContinuation<Void, Never>]]>([:])
    private let exitContinuation: AsyncStream<InstanceExit>.Continuation

    /// Every instance exit, in order. Read by one consumer.
    public let exits: AsyncStream<InstanceExit>

    /// A platform whose instance logs live under `stateDirectory/logs`.
    public init(stateDirectory: String, logger: Logger = Logger(label: "slipway.platform")) {
        self.logDirectory = stateDirectory + "/logs"
        self.logger = logger
        (self.exits, self.exitContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The process ids of the instances currently running.
    public var runningProcesses: [InstanceID: Int32] {
        running.withLock { $0.mapValues(\.pid) }
    }

    public func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
        guard let first = request.run.command.first else { throw .executableNotFound("", searched: []) }
        let executable = try ExecutableResolver.resolve(first, baseDirectory: request.baseDirectory).get()
        let port = try FreePort.pick()
        let argv = request.run.argv(version: request.version, port: port)

        let directory = "\(logDirectory)/\(request.app)"
        try Self.makeDirectories(directory)
        let stdoutPath = "\(directory)/\(request.instance).out.log"
        let stderrPath = "\(directory)/\(request.instance).err.log"
        let logs = UncheckedLogs(
            stdout: try RotatingLogFile(path: stdoutPath, maxBytes: request.logs.maxBytes, keep: request.logs.keep),
            stderr: try RotatingLogFile(path: stderrPath, maxBytes: request.logs.maxBytes, keep: request.logs.keep)
        )

        var environment: [Environment.Key: String?] = [:]
        for (key, value) in request.run.env { environment[Environment.Key(rawValue: key)!] = value }
        environment["PORT"] = String(port)
        environment["SLIPWAY_APP"] = request.app
        environment["SLIPWAY_VERSION"] = request.version
        environment["SLIPWAY_INSTANCE"] = request.instance.rawValue

        var options = PlatformOptions()
        // A session of its own: signals reach the instance and its children, not the controller's terminal.
        options.createSession = true
        let configuration = Configuration(
            executable: .path(FilePath(executable)),
            arguments: Arguments(Array(argv.dropFirst())),
            environment: .inherit.updating(environment),
            workingDirectory: request.run.workingDirectory.map { FilePath($0) },
            platformOptions: options
        )

        let (stops, stopContinuation) = AsyncStream<StopRequest>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let launch = Launch()
        let id = request.instance
        let pid: Int32
        do {
            pid = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                launch.set(continuation)
                Task.detached { [self] in
                    await self.supervise(
                        id: id,
                        configuration: configuration,
                        logs: logs,
                        stops: stops,
                        stopContinuation: stopContinuation,
                        launch: launch
                    )
                }
            }
        } catch let error as LaunchError {
            throw error
        } catch {
            throw .spawnFailed(String(describing: error))
        }
        return InstanceHandle(
            id: id,
            pid: pid,
            host: "127.0.0.1",
            port: port,
            stdoutLog: stdoutPath,
            stderrLog: stderrPath
        )
    }

    public func stop(_ instance: InstanceID, signal: Int32, grace: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entry = running.withLock { $0[instance] }
            guard let entry else {
                continuation.resume()
                return
            }
            exitWaiters.withLock { $0[instance, default: []].append(continuation) }
            // The process may have exited between the two looks; its exit resumed nobody then.
            if running.withLock({ $0[instance] == nil }) {
                resumeExitWaiters(of: instance)
                return
            }
            if case .terminated = entry.stops.yield(StopRequest(signal: signal, grace: grace)) {
                // The output streams closed early; signal the process directly.
                Task.detached {
                    await Self.teardown(
                        pid: entry.pid,
                        signal: signal,
                        grace: grace,
                        isGone: { [self] in
                            running.withLock { $0[instance] == nil }
                        }
                    )
                }
            }
        }
    }

    public func adopt(_ instance: InstanceID, pid: Int32, host: String, port: Int) async -> InstanceHandle? {
        guard pid > 0, Self.runs(instance, pid: pid), running.withLock({ $0[instance] == nil }) else { return nil }
        let (stops, stopContinuation) = AsyncStream<StopRequest>.makeStream(bufferingPolicy: .bufferingNewest(1))
        running.withLock { $0[instance] = Entry(pid: pid, stops: stopContinuation) }
        let adoptedAt = ContinuousClock.now
        Task.detached { [self] in
            // Not a child of this process: its exit is noticed by polling, and its status is not known.
            let watcher = Task {
                for await request in stops {
                    await Self.teardown(pid: pid, signal: request.signal, grace: request.grace) { kill(pid, 0) != 0 }
                }
            }
            while kill(pid, 0) == 0 || errno == EPERM {
                try? await Task.sleep(for: .milliseconds(50))
            }
            watcher.cancel()
            stopContinuation.finish()
            finish(
                instance,
                InstanceExit(id: instance, status: .unknown, ranFor: ContinuousClock.now - adoptedAt, stderrTail: [])
            )
        }
        let directory = "\(logDirectory)/\(instance.app)"
        return InstanceHandle(
            id: instance,
            pid: pid,
            host: host,
            port: port,
            stdoutLog: "\(directory)/\(instance).out.log",
            stderrLog: "\(directory)/\(instance).err.log"
        )
    }

    /// Whether process `pid` runs as `instance`: its environment names it (Linux `/proc`).
    static func runs(_ instance: InstanceID, pid: Int32) -> Bool {
        guard let file = fopen("/proc/\(pid)/environ", "r") else { return false }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        let marker = Array("SLIPWAY_INSTANCE=\(instance.rawValue)".utf8)
        return bytes.split(separator: 0).contains { Array($0) == marker }
    }

    /// Stops every running instance, concurrently.
    public func stopAll(signal: Int32, grace: Duration) async {
        let ids = running.withLock { Array($0.keys) }
        await withTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { await self.stop(id, signal: signal, grace: grace) } }
        }
    }

    private func supervise(
        id: InstanceID,
        configuration: Configuration,
        logs: UncheckedLogs,
        stops: AsyncStream<StopRequest>,
        stopContinuation: AsyncStream<StopRequest>.Continuation,
        launch: Launch
    ) async {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let result = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) {
                execution in
                let pid = execution.processIdentifier.value
                running.withLock { $0[id] = Entry(pid: pid, stops: stopContinuation) }
                launch.resolve(.success(pid))
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        do {
                            for try await chunk in execution.standardOutput {
                                chunk.withUnsafeBytes { logs.stdout.write($0) }
                            }
                        } catch {}
                        return true
                    }
                    group.addTask {
                        do {
                            for try await chunk in execution.standardError {
                                chunk.withUnsafeBytes { logs.stderr.write($0) }
                            }
                        } catch {}
                        return true
                    }
                    group.addTask {
                        for await request in stops {
                            await execution.teardown(using: [
                                .send(
                                    signal: Signal(rawValue: request.signal),
                                    toProcessGroup: true,
                                    allowedDurationToNextStep: request.grace
                                )
                            ])
                            break
                        }
                        return false
                    }
                    // Both outputs end when the process (and its children) exit; then nothing is left to stop.
                    var drained = 0
                    while drained < 2, let finished = await group.next() {
                        if finished { drained += 1 }
                    }
                    stopContinuation.finish()
                }
            }
            let status: ExitStatus
            switch result.terminationStatus {
            case .exited(let code): status = .exited(code)
            case .signaled(let signal): status = .signaled(signal)
            }
            finish(
                id,
                InstanceExit(id: id, status: status, ranFor: clock.now - started, stderrTail: logs.stderr.lastLines(8))
            )
        } catch {
            let reason: String
            if let error = error as? SubprocessError {
                reason = error.description
            } else {
                reason = String(describing: error)
            }
            if launch.resolve(.failure(LaunchError.spawnFailed(reason))) {
                running.withLock { _ = $0.removeValue(forKey: id) }
                return
            }
            logger.warning("instance \(id) ended with an error: \(reason)")
            finish(id, InstanceExit(id: id, status: .exited(-1), ranFor: clock.now - started, stderrTail: [reason]))
        }
    }

    private func finish(_ id: InstanceID, _ exit: InstanceExit) {
        running.withLock { _ = $0.removeValue(forKey: id) }
        exitContinuation.yield(exit)
        resumeExitWaiters(of: id)
    }

    private func resumeExitWaiters(of id: InstanceID) {
        let waiters = exitWaiters.withLock { $0.removeValue(forKey: id) ?? [] }
        for waiter in waiters { waiter.resume() }
    }

    private static func teardown(pid: Int32, signal: Int32, grace: Duration, isGone: @Sendable () -> Bool) async {
        kill(-pid, signal)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !isGone() {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !isGone() { kill(-pid, SIGKILL) }
    }

    private static func makeDirectories(_ path: String) throws(LaunchError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw .logFiles("\(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// Resolves a start exactly once: with the pid, or with the reason the process could not start.
private final class Launch: Sendable {
    private let continuation = Mutex<CheckedContinuation<Int32, any Error>?>(nil)

    func set(_ continuation: CheckedContinuation<Int32, any Error>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Returns true if this call resolved the start.
    @discardableResult
    func resolve(_ result: Result<Int32, any Error>) -> Bool {
        guard
            let continuation = continuation.withLock({ value in
                defer { value = nil }
                return value
            })
        else {
            return false
        }
        continuation.resume(with: result)
        return true
    }
}

/// The two log files of one instance. Each is written by exactly one task (its stream's reader), and read
/// only after both readers have finished.
private struct UncheckedLogs: @unchecked Sendable {
    let stdout: RotatingLogFile
    let stderr: RotatingLogFile
}
