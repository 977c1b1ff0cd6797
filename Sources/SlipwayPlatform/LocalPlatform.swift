import Foundation
import Logging
import SlipwayConfig
import SlipwayCore
import SlipwaySupervision
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs instances as processes on this machine, each on a free loopback port in a session of its own, each under a
/// `slipway-supervisor` process that owns its output, its log files and its exit status.
///
/// Commands run as argv, never through a shell. Standard output and error go to size-capped files under
/// `<stateDirectory>/logs/<app>/`; the supervisor's records go under `<stateDirectory>/instances/<app>/` (see
/// ``SupervisionPaths``). The instance learns its port and identity from `PORT`, `SLIPWAY_APP`, `SLIPWAY_VERSION`
/// and `SLIPWAY_INSTANCE`.
///
/// The supervisor outlives the controller: the instance keeps running and logging when no controller does, and a
/// later controller takes it over with ``adopt(_:reference:host:port:)`` and learns how it ended. References are
/// `supervisor:<pid>`; `pid:<pid>` names an instance an older version started without a supervisor.
public final class LocalPlatform: Platform {
    private struct Entry: Sendable {
        /// The instance's process id (0 when not known).
        var pid: Int32
        /// Nil for an instance without a supervisor (adopted by `pid:` reference).
        var supervisorPid: Int32?
        var paths: SupervisionPaths
        /// How long a stop may take before the instance is killed.
        var grace: Duration
    }

    /// What a handle's reference names.
    private enum Reference {
        case supervisor(Int32)
        case process(Int32)

        init?(_ text: String) {
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = Int32(parts[1]), pid > 0 else { return nil }
            switch parts[0] {
            case "supervisor": self = .supervisor(pid)
            case "pid": self = .process(pid)
            default: return nil
            }
        }
    }

    /// How long the stop of an instance without a supervisor waits after SIGTERM before SIGKILL.
    private static let unsupervisedGrace: Duration = .seconds(10)
    /// How long a supervisor has to report that its instance runs.
    private static let startTimeout: Duration = .seconds(10)
    /// How often the processes of instances this platform did not start are looked at.
    private static let pollInterval: Duration = .milliseconds(50)

    private let stateDirectory: String
    private let supervisorPath: String
    /// How much longer than its grace period a supervisor may take to finish a stop before it is killed too.
    private let stopMargin: Duration
    private let logger: Logger
    private let running = Mutex<[InstanceID: Entry]>([:])
    private let exitWaiters = Mutex<[InstanceID: [CheckedContinuation<Void, Never>]]>([:])
    private let exitContinuation: AsyncStream<InstanceExit>.Continuation

    /// Every instance exit, in order. Read by one consumer.
    public let exits: AsyncStream<InstanceExit>

    /// A platform keeping instance logs and records under `stateDirectory`, starting instances through the
    /// supervisor at `supervisorPath` (by default ``bundledSupervisorPath``).
    public convenience init(
        stateDirectory: String,
        supervisorPath: String? = nil,
        logger: Logger = Logger(label: "slipway.platform")
    ) {
        self.init(stateDirectory, supervisorPath: supervisorPath, logger: logger, stopMargin: .seconds(5))
    }

    /// A platform that kills a supervisor `stopMargin` after the grace period of a stop it has not finished.
    init(
        _ stateDirectory: String,
        supervisorPath: String? = nil,
        logger: Logger = Logger(label: "slipway.platform"),
        stopMargin: Duration
    ) {
        self.stopMargin = stopMargin
        // Absolute: the supervisors keep these paths and a later controller may run from elsewhere.
        self.stateDirectory =
            stateDirectory.hasPrefix("/")
            ? stateDirectory : FileManager.default.currentDirectoryPath + "/" + stateDirectory
        self.supervisorPath = supervisorPath ?? Self.bundledSupervisorPath
        self.logger = logger
        (self.exits, self.exitContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// `slipway-supervisor` beside the running executable: where `swift build` and an installation put it.
    public static var bundledSupervisorPath: String {
        (ExecutableResolver.ownDirectory() ?? ".") + "/slipway-supervisor"
    }

    /// The process ids of the instances currently running.
    public var runningProcesses: [InstanceID: Int32] {
        running.withLock { $0.mapValues(\.pid) }
    }

    /// The process ids of the supervisors of the instances currently running.
    public var supervisorProcesses: [InstanceID: Int32] {
        running.withLock { $0.compactMapValues(\.supervisorPid) }
    }

    public func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
        guard let first = request.run.command.first else { throw .executableNotFound("", searched: []) }
        let executable = try ExecutableResolver.resolve(first, baseDirectory: request.baseDirectory).get()
        let port = try FreePort.pick()
        let id = request.instance
        guard running.withLock({ $0[id] == nil }) else { throw .spawnFailed("instance \(id) is already running") }

        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: request.app, instance: id.rawValue)
        do {
            try Files.makeDirectories(paths.logDirectory)
            try Files.makeDirectories(paths.recordDirectory)
            // Opened here too, so that an unwritable log is reported as such.
            _ = try RotatingLogFile(path: paths.stdoutLog, maxBytes: request.logs.maxBytes, keep: request.logs.keep)
            _ = try RotatingLogFile(path: paths.stderrLog, maxBytes: request.logs.maxBytes, keep: request.logs.keep)
        } catch let error as FileError {
            throw .logFiles(error.description)
        } catch let error as LogFileError {
            throw .logFiles(error.description)
        } catch {
            throw .logFiles(String(describing: error))
        }
        // A record from an earlier run of this id would be read as this one's.
        Files.remove(paths.supervisorRecord)
        Files.remove(paths.exitRecord)

        let arguments = request.supervisorArguments(stateDirectory: stateDirectory, program: executable, port: port)
        let overrides = request.environment(port: port)
        let supervisor: Int32
        do {
            supervisor = try ProcessSpawner.spawn(
                program: supervisorPath,
                arguments: [supervisorPath] + arguments.words,
                environment: Self.environment(overriding: overrides)
            )
        } catch {
            throw .spawnFailed("slipway-supervisor: \(error.description)")
        }

        let record = try await self.record(of: supervisor, paths)
        return InstanceHandle(
            id: id,
            reference: "supervisor:\(supervisor)",
            pid: record.pid,
            supervisorPid: supervisor,
            host: "127.0.0.1",
            port: port,
            stdoutLog: paths.stdoutLog,
            stderrLog: paths.stderrLog
        )
    }

    /// Waits until the supervisor reports the instance running (then watches it) or not started (then throws).
    private func record(of supervisor: Int32, _ paths: SupervisionPaths) async throws(LaunchError) -> SupervisorRecord {
        let id = InstanceID(paths.instance)
        let deadline = ContinuousClock.now + Self.startTimeout
        var ended: Int32?
        while true {
            if ended == nil {
                var status: Int32 = 0
                if waitpid(supervisor, &status, WNOHANG) == supervisor { ended = status }
            }
            // The exit record is read first: the supervisor writes its own record before it, so a missing
            // supervisor record after an exit record means the instance never ran.
            let exit = ExitRecord(contentsOf: paths.exitRecord)
            if let record = SupervisorRecord(contentsOf: paths.supervisorRecord) {
                let grace = Duration.milliseconds(record.graceMilliseconds)
                running.withLock {
                    $0[id] = Entry(pid: record.pid, supervisorPid: supervisor, paths: paths, grace: grace)
                }
                if ended != nil {
                    // It already ended: reported once the caller has its handle.
                    Task.detached { [self] in
                        try? await Task.sleep(for: Self.pollInterval)
                        supervisorEnded(id)
                    }
                } else {
                    reap(supervisor, of: id)
                }
                return record
            }
            if let exit {
                if ended == nil { reap(supervisor, of: nil) }
                switch exit.ending {
                case .notStarted(let reason): throw .spawnFailed(reason)
                case .exited, .signaled: throw .spawnFailed("the instance ended before it was recorded")
                }
            }
            if let ended {
                let ending = ExitRecord.Ending(waitStatus: ended).map(Self.describe) ?? "status \(ended)"
                throw .spawnFailed("slipway-supervisor ended (\(ending)) before the instance ran")
            }
            if ContinuousClock.now >= deadline {
                // It stops the instance, if there is one, on SIGTERM.
                kill(supervisor, SIGTERM)
                reap(supervisor, of: nil)
                throw .spawnFailed("slipway-supervisor did not report within \(Self.startTimeout)")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    public func stop(_ instance: InstanceID) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entry = running.withLock { $0[instance] }
            guard let entry else {
                continuation.resume()
                return
            }
            exitWaiters.withLock { $0[instance, default: []].append(continuation) }
            // It may have ended between the two looks; its exit resumed nobody then.
            if running.withLock({ $0[instance] == nil }) {
                resumeExitWaiters(of: instance)
                return
            }
            if let supervisor = entry.supervisorPid {
                // The supervisor stops it with the launch's signal and grace, and kills it after; a supervisor
                // that is already gone is noticed by its watcher.
                if Self.isSupervisor(supervisor, of: instance) { kill(supervisor, SIGTERM) }
                Task.detached { [self] in
                    try? await Task.sleep(for: entry.grace + stopMargin)
                    forceStop(instance, entry: entry, supervisor: supervisor)
                }
            } else {
                Task.detached { [self] in
                    await Self.teardown(pid: entry.pid, signal: SIGTERM, grace: entry.grace) {
                        running.withLock { $0[instance] == nil }
                    }
                }
            }
        }
    }

    /// Signals the instance's process group (it runs in one of its own), so that a wrapper and its children alike
    /// crash or freeze. Its supervisor sees a crash as an exit like any other.
    public func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool {
        guard let entry = running.withLock({ $0[instance] }), entry.pid > 0, Self.runs(instance, pid: entry.pid) else {
            return false
        }
        return kill(-entry.pid, signal) == 0
    }

    /// Kills an instance whose supervisor has not finished stopping it in time (hung, or stopped by SIGSTOP), and
    /// the supervisor with it, so that a stop always ends.
    private func forceStop(_ instance: InstanceID, entry: Entry, supervisor: Int32) {
        guard running.withLock({ $0[instance] != nil }) else { return }
        logger.warning("the supervisor of instance \(instance) did not finish stopping it; killing both")
        if entry.pid > 0, Self.runs(instance, pid: entry.pid) { kill(-entry.pid, SIGKILL) }
        if Self.isSupervisor(supervisor, of: instance) { kill(supervisor, SIGKILL) }
    }

    /// Stops every running instance, concurrently.
    public func stopAll() async {
        let ids = running.withLock { Array($0.keys) }
        await withTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { await self.stop(id) } }
        }
    }

    public func adopt(
        _ instance: InstanceID,
        version: String?,
        reference: String,
        host: String,
        port: Int
    ) async -> InstanceHandle? {
        guard let parsed = Reference(reference), running.withLock({ $0[instance] == nil }) else { return nil }
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: instance.app, instance: instance.rawValue)
        let handle = { (pid: Int32, supervisor: Int32?) in
            InstanceHandle(
                id: instance,
                reference: reference,
                pid: pid,
                supervisorPid: supervisor,
                host: host,
                port: port,
                stdoutLog: paths.stdoutLog,
                stderrLog: paths.stderrLog
            )
        }
        switch parsed {
        case .supervisor(let supervisor):
            let record = SupervisorRecord(contentsOf: paths.supervisorRecord).flatMap {
                $0.instance == instance.rawValue && $0.supervisorPid == supervisor ? $0 : nil
            }
            // One that ended while nobody watched is known from its record; the watcher reports its exit.
            guard record != nil || Self.isSupervisor(supervisor, of: instance) else { return nil }
            let grace = record.map { Duration.milliseconds($0.graceMilliseconds) } ?? Self.unsupervisedGrace
            let entry = Entry(pid: record?.pid ?? 0, supervisorPid: supervisor, paths: paths, grace: grace)
            guard insert(instance, entry) else { return nil }
            watch(supervisor, of: instance)
            return handle(record?.pid ?? 0, supervisor)
        case .process(let pid):
            guard Self.runs(instance, pid: pid) else { return nil }
            let entry = Entry(pid: pid, supervisorPid: nil, paths: paths, grace: Self.unsupervisedGrace)
            guard insert(instance, entry) else { return nil }
            watchUnsupervised(pid, of: instance)
            return handle(pid, nil)
        }
    }

    public func stderrTail(of instance: InstanceID, lines: Int) async -> [String] {
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: instance.app, instance: instance.rawValue)
        return RotatingLogFile.lastLines(ofFile: paths.stderrLog, lines)
    }

    public func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed {
        let directory = SupervisionPaths(stateDirectory: stateDirectory, app: app, instance: "").recordDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var highest = 0
        var stopped: [InstanceID] = []
        for name in names.sorted() {
            let stem =
                name.hasSuffix(".supervisor")
                ? String(name.dropLast(11)) : name.hasSuffix(".exit") ? String(name.dropLast(5)) : nil
            guard let stem else { continue }
            let id = InstanceID(stem)
            guard id.app == app, let number = id.number else { continue }
            highest = max(highest, number)
            guard name.hasSuffix(".supervisor"), !known.contains(id), running.withLock({ $0[id] == nil }),
                let record = SupervisorRecord(contentsOf: "\(directory)/\(name)"), record.instance == stem,
                Self.isSupervisor(record.supervisorPid, of: id)
            else { continue }
            // Its supervisor sends the stop signal and escalates to SIGKILL after the grace period.
            kill(record.supervisorPid, SIGTERM)
            stopped.append(id)
        }
        return Reclaimed(stopped: stopped, highestNumber: highest)
    }

    /// Adds an entry unless the instance has one already.
    private func insert(_ instance: InstanceID, _ entry: Entry) -> Bool {
        running.withLock { entries in
            guard entries[instance] == nil else { return false }
            entries[instance] = entry
            return true
        }
    }

    // MARK: Watching

    /// Waits for a supervisor this process started (so only this process can reap it) on a thread of its own.
    /// With `instance` nil nothing is reported: the start failed.
    private func reap(_ supervisor: Int32, of instance: InstanceID?) {
        Thread.detachNewThread { [weak self] in
            var status: Int32 = 0
            while waitpid(supervisor, &status, 0) < 0, errno == EINTR {}
            if let instance { self?.supervisorEnded(instance) }
        }
    }

    /// Polls a supervisor an earlier controller started. Its first look comes after one interval, so an exit that
    /// happened while nobody watched reaches ``exits`` after ``adopt(_:reference:host:port:)`` has returned.
    private func watch(_ supervisor: Int32, of instance: InstanceID) {
        Task.detached { [weak self] in
            repeat {
                try? await Task.sleep(for: Self.pollInterval)
            } while Self.isSupervisor(supervisor, of: instance)
            self?.supervisorEnded(instance)
        }
    }

    /// Polls an instance without a supervisor. Its status cannot be known.
    private func watchUnsupervised(_ pid: Int32, of instance: InstanceID) {
        let adoptedAt = ContinuousClock.now
        Task.detached { [weak self] in
            repeat {
                try? await Task.sleep(for: Self.pollInterval)
            } while Self.isAlive(pid)
            self?.finish(
                instance,
                InstanceExit(id: instance, status: .unknown, ranFor: ContinuousClock.now - adoptedAt, stderrTail: [])
            )
        }
    }

    /// Reports the end of a supervised instance from its exit record.
    private func supervisorEnded(_ instance: InstanceID) {
        guard let entry = running.withLock({ $0[instance] }) else { return }
        let paths = entry.paths
        if let record = ExitRecord(contentsOf: paths.exitRecord), record.instance == instance.rawValue {
            finish(instance, InstanceExit(record, of: instance))
            return
        }
        // The supervisor died without a word (SIGKILL, say). An instance it leaves behind has lost its output
        // and nobody could learn how it ends: it goes too.
        let record = SupervisorRecord(contentsOf: paths.supervisorRecord)
        var ranFor = Duration.zero
        if let record {
            ranFor = .milliseconds(max(0, wallClockMilliseconds() - record.startedAtMilliseconds))
            if record.pid > 0, Self.runs(instance, pid: record.pid) {
                logger.warning("instance \(instance) lost its supervisor; killing it (pid \(record.pid))")
                kill(-record.pid, SIGKILL)
            }
        }
        finish(
            instance,
            InstanceExit(
                id: instance,
                status: .unknown,
                ranFor: ranFor,
                stderrTail: RotatingLogFile.lastLines(ofFile: paths.stderrLog, ExitRecord.tailLines)
            )
        )
    }

    private func finish(_ id: InstanceID, _ exit: InstanceExit) {
        guard running.withLock({ $0.removeValue(forKey: id) }) != nil else { return }
        exitContinuation.yield(exit)
        resumeExitWaiters(of: id)
    }

    private func resumeExitWaiters(of id: InstanceID) {
        let waiters = exitWaiters.withLock { $0.removeValue(forKey: id) ?? [] }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Processes

    /// Whether process `pid` is the live supervisor of `instance`: its command line says so (Linux `/proc`).
    /// False for a zombie, whose command line is empty.
    static func isSupervisor(_ pid: Int32, of instance: InstanceID) -> Bool {
        guard isAlive(pid), let text = Files.read("/proc/\(pid)/cmdline", limit: 1 << 20) else { return false }
        var words = text.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        // The list ends with a NUL, which leaves an empty last word.
        if words.last == "" { words.removeLast() }
        guard words.count > 1, words[0].hasSuffix("slipway-supervisor"),
            let arguments = try? SupervisorArguments(parsing: Array(words.dropFirst()))
        else { return false }
        return arguments.instance == instance.rawValue && arguments.app == instance.app
    }

    /// Whether process `pid` runs as `instance`: its environment names it (Linux `/proc`).
    static func runs(_ instance: InstanceID, pid: Int32) -> Bool {
        guard isAlive(pid), let text = Files.read("/proc/\(pid)/environ", limit: 1 << 20) else { return false }
        let marker = "SLIPWAY_INSTANCE=\(instance.rawValue)"
        return text.split(separator: "\0").contains { $0 == marker }
    }

    /// Whether process `pid` exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // `pid (comm) S …`: the state follows the last parenthesis (the name may hold any character).
        guard let stat = Files.read("/proc/\(pid)/stat", limit: 4096), let close = stat.lastIndex(of: ")") else {
            return true
        }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    private static func teardown(pid: Int32, signal: Int32, grace: Duration, isGone: @Sendable () -> Bool) async {
        kill(-pid, signal)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, !isGone() {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !isGone() { kill(-pid, SIGKILL) }
    }

    /// This process's environment with `overrides` set.
    private static func environment(overriding overrides: [String: String]) -> [String] {
        var entries = ProcessSpawner.currentEnvironment().filter { entry in
            guard let equals = entry.firstIndex(of: "=") else { return true }
            return overrides[String(entry[..<equals])] == nil
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) { entries.append("\(name)=\(value)") }
        return entries
    }

    private static func describe(_ ending: ExitRecord.Ending) -> String {
        switch ending {
        case .exited(let code): return ExitStatus.exited(code).description
        case .signaled(let signal): return ExitStatus.signaled(signal).description
        case .notStarted(let reason): return reason
        }
    }
}
