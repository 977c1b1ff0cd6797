import Foundation
import Logging
import SlipwayConfig
import SlipwayCore
import SlipwaySupervision
import Synchronization

/// Runs instances on one host over SSH, each under the `slipway-supervisor` that ``HostInstaller`` put there.
///
/// The supervisor is started in the background of a short SSH command and makes a session of its own, so it and its
/// instance outlive the SSH session and the controller; it keeps the same records and logs under
/// `<directory>/state/` on the host as on this machine. A start picks a port nobody listens on there, starts the
/// supervisor with the instance's environment, and waits for the supervisor's record. One watcher per platform
/// reads the exit records of every running instance over the host's shared connection, every ``pollInterval``.
/// Every value in a remote command is a quoted word (``SSHClient``).
public final class SSHPlatform: Platform {
    /// Lines the remote scripts print start with this, so that nothing else a host prints is taken for an answer.
    static let marker = "slipway-ssh:"
    /// How long a supervisor has to report that its instance runs.
    static let startTimeout: Duration = .seconds(15)
    /// How much longer than its grace period a stop may take before the instance and its supervisor are killed.
    static let stopMargin: Duration = .seconds(5)
    /// The ports a start picks from.
    static let ports = 20_000...39_999

    struct Entry: Sendable {
        var supervisorPid: Int32
        var pid: Int32
        var paths: SupervisionPaths
        var grace: Duration
        /// The release it runs, when known.
        var version: String?
    }

    /// The host.
    public let client: SSHClient
    /// The releases shipped as files there.
    public let releases: HostReleases
    /// How often the exit records are read.
    public let pollInterval: Duration
    /// Every instance exit, in order. Read by one consumer.
    public let exits: AsyncStream<InstanceExit>

    private let exitContinuation: AsyncStream<InstanceExit>.Continuation
    private let running = Mutex<[InstanceID: Entry]>([:])
    private let exitWaiters = Mutex<[InstanceID: [CheckedContinuation<Void, Never>]]>([:])
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    /// A platform on `client`'s host, reading exit records every `pollInterval`.
    public init(
        client: SSHClient,
        pollInterval: Duration = .milliseconds(500),
        logger: Logger = Logger(label: "slipway.platform.ssh")
    ) {
        self.client = client
        self.releases = HostReleases(client: client)
        self.pollInterval = pollInterval
        self.logger = logger
        (exits, exitContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    deinit {
        watcher.withLock { $0?.cancel() }
    }

    /// The host's state folder: `<directory>/state`.
    public var stateDirectory: String { client.host.directory + "/state" }
    /// The supervisor on the host: this build's, as ``HostInstaller`` installs it.
    public var supervisorPath: String { HostInstaller.folder(directory: client.host.directory) + "/slipway-supervisor" }

    // MARK: Starting

    public func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
        let id = request.instance
        guard running.withLock({ $0[id] == nil }) else { throw .spawnFailed("instance \(id) is already running") }
        var request = request
        if let artifact = request.run.artifactPath(version: request.version) {
            let versions = running.withLock { Set($0.values.compactMap(\.version)) }
            let folder = try await releases.ensure(
                app: request.app,
                version: request.version,
                artifact: artifact,
                for: id,
                running: versions
            )
            request.run = request.run.inRelease(folder)
        }
        guard let first = request.run.command.first else { throw .executableNotFound("", searched: []) }
        let (program, port) = try await prepare(first)
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: request.app, instance: id.rawValue)
        let arguments = request.supervisorArguments(stateDirectory: stateDirectory, program: program, port: port)
        // The instance's variables go over standard input, never on a command line (where anyone on the host could
        // read them in the process list).
        let variables = try Self.variablesFile(request.environment(port: port), in: client.controlDirectory)
        defer { unlink(variables) }
        // The supervisor runs in the background with nothing of the SSH session: it makes its own session.
        let script = """
            mkdir -p "$1" "$2" || exit 3
            rm -f "$3" "$4"
            shift 4
            set -a
            eval "$(cat)" || exit 3
            set +a
            cd / || exit 3
            "$@" </dev/null >/dev/null 2>&1 &
            echo "\(Self.marker)supervisor $!"
            """
        let started = await client.change(
            "startInstance",
            instance: id,
            words: [program] + request.run.argv(version: request.version, port: port).dropFirst(),
            [
                "sh", "-c", script, "slipway-ssh", paths.logDirectory, paths.recordDirectory, paths.supervisorRecord,
                paths.exitRecord, supervisorPath,
            ] + arguments.words,
            input: variables
        )
        guard started.succeeded,
            let supervisor = MarkedAnswers(started.output, marker: Self.marker).first("supervisor").flatMap(Int32.init)
        else {
            throw .spawnFailed("slipway-supervisor on \(client.host.name): \(HostProbe.problem(in: started))")
        }
        let record = try await record(of: supervisor, paths)
        let grace = Duration.milliseconds(record.graceMilliseconds)
        let pid = record.supervisorPid
        running.withLock {
            $0[id] = Entry(supervisorPid: pid, pid: record.pid, paths: paths, grace: grace, version: request.version)
        }
        startWatching()
        return handle(id, reference: "ssh:\(client.host.name):supervisor:\(pid)", record.pid, pid, port)
    }

    /// A file of this user's alone in `directory` holding `variables` as shell assignments, one per line, each value
    /// quoted: what the start script reads from its standard input.
    static func variablesFile(_ variables: [String: String], in directory: String) throws(LaunchError) -> String {
        var text = ""
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            let scalars = Array(name.unicodeScalars)
            let word = scalars.allSatisfy {
                $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
            }
            guard let first = scalars.first, word, !("0"..."9").contains(first) else {
                throw .spawnFailed("\"\(name)\" is not an environment variable name")
            }
            text += "\(name)=\(ShellQuoting.quote(value))\n"
        }
        var template = Array((directory + "/env-XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw .spawnFailed(
                "cannot write the instance's variables in \(directory): \(String(cString: strerror(errno)))"
            )
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count else {
            unlink(path)
            throw .spawnFailed("cannot write the instance's variables in \(directory)")
        }
        return path
    }

    /// The program's path on the host (`command -v`), and a port nobody listens on there.
    private func prepare(_ program: String) async throws(LaunchError) -> (program: String, port: Int) {
        let script = """
            program=$(command -v "$1") || { echo "\(Self.marker)missing"; exit 0; }
            echo "\(Self.marker)program $program"
            echo "\(Self.marker)listening $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null \\
              | awk '$4 == "0A" { n = split($2, part, ":"); print part[n] }' | tr '\\n' ' ')"
            """
        let answered = await client.run(["sh", "-c", script, "slipway-ssh", program])
        guard answered.succeeded, answered.output.contains(Self.marker) else {
            throw .spawnFailed("cannot look at \(client.host.name): \(HostProbe.problem(in: answered))")
        }
        let answers = MarkedAnswers(answered.output, marker: Self.marker)
        guard let path = answers.first("program") else {
            throw .executableNotFound(program, searched: ["PATH of \(client.host.name)"])
        }
        let taken = Set(
            (answers.first("listening") ?? "").split(separator: " ").compactMap {
                Int($0, radix: 16)
            }
        )
        guard let port = Self.ports.shuffled().first(where: { !taken.contains($0) }) else {
            throw .noFreePort("every port of \(Self.ports) is taken on \(client.host.name)")
        }
        return (path, port)
    }

    /// Waits until the supervisor's record says the instance runs, or its exit record says it did not start.
    private func record(of supervisor: Int32, _ paths: SupervisionPaths) async throws(LaunchError) -> SupervisorRecord {
        let deadline = ContinuousClock.now + Self.startTimeout
        let script = """
            cat "$1" 2>/dev/null
            echo "\(Self.marker)--"
            cat "$2" 2>/dev/null
            exit 0
            """
        while ContinuousClock.now < deadline {
            let read = await client.run(["sh", "-c", script, "slipway-ssh", paths.supervisorRecord, paths.exitRecord])
            if read.succeeded, let split = read.output.range(of: "\(Self.marker)--\n") {
                let supervisorText = String(read.output[..<split.lowerBound])
                let exitText = String(read.output[split.upperBound...])
                // The records were removed before the start: one naming the instance is this start's.
                if let record = SupervisorRecord(text: supervisorText), record.instance == paths.instance {
                    return record
                }
                if let exit = ExitRecord(text: exitText) {
                    switch exit.ending {
                    case .notStarted(let reason): throw .spawnFailed(reason)
                    case .exited, .signaled: throw .spawnFailed("the instance ended before it was recorded")
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        _ = await client.run(["kill", "-TERM", String(supervisor)])
        throw .spawnFailed("slipway-supervisor on \(client.host.name) did not report within \(Self.startTimeout)")
    }

    private func handle(
        _ id: InstanceID,
        reference: String,
        _ pid: Int32,
        _ supervisor: Int32,
        _ port: Int
    )
        -> InstanceHandle
    {
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: id.app, instance: id.rawValue)
        return InstanceHandle(
            id: id,
            reference: reference,
            pid: pid,
            supervisorPid: supervisor,
            host: client.host.address,
            port: port,
            stdoutLog: paths.stdoutLog,
            stderrLog: paths.stderrLog
        )
    }

    // MARK: Stopping and signals

    public func stop(_ instance: InstanceID) async {
        guard let entry = running.withLock({ $0[instance] }) else { return }
        let client = self.client
        // The supervisor stops its instance with the launch's signal and grace, and kills it after; one that has
        // not finished by then (frozen, say) is killed with its instance, and the exit is unknown. A host that cannot
        // be reached is asked again until it can: its instance is stopping, not gone, until the host says so.
        let escalation = Task.detached { [weak self] in
            let stillRunning = { self?.running.withLock { $0[instance] != nil } ?? false }
            let term = ["kill", "-TERM", String(entry.supervisorPid)]
            guard await Self.untilReached(client, "stopInstance", instance, term, while: stillRunning) else { return }
            try? await Task.sleep(for: entry.grace + Self.stopMargin)
            guard !Task.isCancelled, stillRunning() else { return }
            self?.logger.warning("the supervisor of instance \(instance) did not finish stopping it; killing both")
            let kill = ["kill", "-KILL", "-\(entry.pid)", String(entry.supervisorPid)]
            guard await Self.untilReached(client, "killInstance", instance, kill, while: stillRunning) else { return }
            self?.finish(
                instance,
                InstanceExit(id: instance, status: .unknown, ranFor: .zero, stderrTail: [])
            )
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exitWaiters.withLock { $0[instance, default: []].append(continuation) }
            if running.withLock({ $0[instance] == nil }) { resumeExitWaiters(of: instance) }
        }
        escalation.cancel()
    }

    /// Runs `command` (reported as `action` on `instance`) until SSH reaches the host (every second), as long as
    /// `wanted` holds and the task is not cancelled; whether it was reached.
    private static func untilReached(
        _ client: SSHClient,
        _ action: String,
        _ instance: InstanceID,
        _ command: [String],
        while wanted: () -> Bool
    ) async -> Bool {
        while !Task.isCancelled, wanted() {
            let result = await client.change(action, instance: instance, words: command, command, timeout: .seconds(10))
            if result.ending != .exited(SSHClient.connectionFailureStatus), result.ending != .timedOut { return true }
            try? await Task.sleep(for: .seconds(1))
        }
        return false
    }

    public func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool {
        guard let entry = running.withLock({ $0[instance] }), entry.pid > 0 else { return false }
        let command = ["kill", "-\(signal)", "-\(entry.pid)"]
        return await client.change("signalInstance", instance: instance, words: command, command).succeeded
    }

    public func stderrTail(of instance: InstanceID, lines: Int) async -> [String] {
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: instance.app, instance: instance.rawValue)
        let read = await client.run(["tail", "-n", String(max(0, lines)), paths.stderrLog])
        guard read.succeeded else { return [] }
        return read.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter {
            !$0.isEmpty
        }
    }

    // MARK: Adopting and reclaiming

    public func adopt(
        _ instance: InstanceID,
        version: String?,
        reference: String,
        host: String,
        port: Int
    ) async -> InstanceHandle? {
        let words = reference.split(separator: ":").map(String.init)
        guard words.count == 4, words[0] == "ssh", words[1] == client.host.name, words[2] == "supervisor",
            let supervisor = Int32(words[3]), running.withLock({ $0[instance] == nil })
        else { return nil }
        let paths = SupervisionPaths(stateDirectory: stateDirectory, app: instance.app, instance: instance.rawValue)
        let read = await client.run(["cat", paths.supervisorRecord])
        guard read.succeeded, let record = SupervisorRecord(text: read.output), record.supervisorPid == supervisor,
            record.instance == instance.rawValue
        else { return nil }
        let entry = Entry(
            supervisorPid: supervisor,
            pid: record.pid,
            paths: paths,
            grace: .milliseconds(record.graceMilliseconds),
            version: version
        )
        running.withLock { $0[instance] = entry }
        startWatching()
        return handle(instance, reference: reference, record.pid, supervisor, port)
    }

    public func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed {
        let directory = SupervisionPaths(stateDirectory: stateDirectory, app: app, instance: "").recordDirectory
        // Every record's name, and for each supervisor record whose supervisor still runs, its pid.
        let script = """
            cd "$1" 2>/dev/null || exit 0
            for name in *.supervisor *.exit; do
              [ -e "$name" ] || continue
              echo "\(Self.marker)record $name"
            done
            for name in *.supervisor; do
              [ -e "$name" ] || continue
              pid=$(sed -n 's/^supervisor-pid=//p' "$name")
              if [ -n "$pid" ] && tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q slipway-supervisor; then
                echo "\(Self.marker)alive ${name%.supervisor} $pid"
              fi
            done
            exit 0
            """
        let read = await client.run(["sh", "-c", script, "slipway-ssh", directory])
        var highest = 0
        var stopped: [InstanceID] = []
        let answers = MarkedAnswers(read.output, marker: Self.marker)
        for name in answers.all("record") {
            let stem = name.hasSuffix(".supervisor") ? name.dropLast(11) : name.dropLast(5)
            if let number = InstanceID(String(stem)).number { highest = max(highest, number) }
        }
        for alive in answers.all("alive") {
            let words = alive.split(separator: " ").map(String.init)
            guard words.count == 2, let pid = Int32(words[1]) else { continue }
            let id = InstanceID(words[0])
            guard id.app == app, !known.contains(id), running.withLock({ $0[id] == nil }) else { continue }
            let command = ["kill", "-TERM", String(pid)]
            _ = await client.change("stopInstance", instance: id, words: command, command)
            stopped.append(id)
        }
        return Reclaimed(stopped: stopped, highestNumber: highest)
    }

    // MARK: Watching

    /// Reads the exit records of every running instance every ``pollInterval``, while any runs.
    private func startWatching() {
        watcher.withLock { task in
            guard task == nil else { return }
            task = Task.detached { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    await self.readExits()
                    try? await Task.sleep(for: self.pollInterval)
                }
            }
        }
    }

    private func readExits() async {
        let entries = running.withLock { $0 }
        guard !entries.isEmpty else { return }
        // Pairs of an exit record and its supervisor: the record when there is one, else whether the supervisor
        // is gone without writing one (killed).
        let script = """
            while [ $# -ge 2 ]; do
              if [ -f "$1" ]; then
                echo "\(Self.marker)exit $1"; cat "$1"; echo; echo "\(Self.marker)end"
              elif ! kill -0 "$2" 2>/dev/null; then
                echo "\(Self.marker)gone $1"
              fi
              shift 2
            done
            exit 0
            """
        let pairs = entries.values.sorted { $0.paths.exitRecord < $1.paths.exitRecord }.flatMap {
            [$0.paths.exitRecord, String($0.supervisorPid)]
        }
        let read = await client.run(["sh", "-c", script, "slipway-ssh"] + pairs)
        guard read.succeeded else { return }
        for path in MarkedAnswers(read.output, marker: Self.marker).all("gone") {
            guard let (id, _) = entries.first(where: { $0.value.paths.exitRecord == path }) else { continue }
            // Read again: the record may have been written between the two looks.
            let again = await client.run(["cat", path])
            if again.succeeded, ExitRecord(text: again.output) != nil { continue }
            logger.warning("the supervisor of instance \(id) ended without a record")
            finish(id, InstanceExit(id: id, status: .unknown, ranFor: .zero, stderrTail: []))
        }
        var rest = Substring(read.output)
        while let start = rest.range(of: "\(Self.marker)exit ") {
            let afterName = rest[start.upperBound...]
            guard let lineEnd = afterName.firstIndex(of: "\n"), let end = afterName.range(of: "\(Self.marker)end")
            else { break }
            let file = String(afterName[..<lineEnd])
            let text = String(afterName[afterName.index(after: lineEnd)..<end.lowerBound])
            rest = afterName[end.upperBound...]
            guard let (id, _) = entries.first(where: { $0.value.paths.exitRecord == file }),
                let record = ExitRecord(text: text), record.instance == id.rawValue
            else { continue }
            finish(id, InstanceExit(record, of: id))
        }
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
}
