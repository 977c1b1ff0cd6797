import Foundation
import SlipwayConfig
import SlipwayCore

/// Starts a host's data plane over SSH when none runs there, and forwards its control socket to this machine.
///
/// The data plane is the `slipway-dataplane` that ``HostInstaller`` put on the host, started in the background of one
/// SSH command; it makes a session of its own, so it outlives the SSH session and the controller, as on this machine.
/// Its control socket is reached through an SSH tunnel of its own (``Tunnel``): the controller drives it with the
/// same control protocol as a local one.
public struct HostDataPlaneLauncher: Sendable {
    /// Lines the remote script prints start with this.
    static let marker = SSHPlatform.marker

    /// The host.
    public let client: SSHClient
    /// The data plane's folder on the host (its socket, pid file, routes and log are in it).
    public let stateDirectory: String
    /// Its control socket on the host.
    public let socket: String
    /// Its pid file on the host.
    public let pidFile: String
    /// Its log on the host.
    public let log: String
    /// Its arguments besides `--state`.
    public let arguments: [String]

    /// A launcher for the data plane in `stateDirectory` on `client`'s host, with the files its data plane keeps there.
    public init(
        client: SSHClient,
        stateDirectory: String,
        socket: String,
        pidFile: String,
        log: String,
        arguments: [String]
    ) {
        self.client = client
        self.stateDirectory = stateDirectory
        self.socket = socket
        self.pidFile = pidFile
        self.log = log
        self.arguments = arguments
    }

    /// This build's data plane on the host.
    public var program: String { HostInstaller.folder(directory: client.host.directory) + "/slipway-dataplane" }

    /// What ``ensureRunning()`` found.
    public enum Found: Sendable, Equatable {
        /// A data plane ran there already, with this pid.
        case running(Int32)
        /// None ran; this one was started.
        case started(Int32)
    }

    /// Makes sure a data plane serves the socket on the host: starts one when its pid file names no live process,
    /// and waits (up to 10 s) until it listens.
    public func ensureRunning() async throws(HostDataPlaneError) -> Found {
        let script = """
            state=$1 socket=$2 pidfile=$3 log=$4 program=$5
            shift 5
            pid=$(cat "$pidfile" 2>/dev/null)
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ -S "$socket" ]; then
              echo "\(Self.marker)running $pid"; exit 0
            fi
            [ -x "$program" ] || { echo "\(Self.marker)missing"; exit 0; }
            mkdir -p "$state" || exit 3
            rm -f "$socket" "$pidfile"
            cd / || exit 3
            "$program" --state "$state" "$@" </dev/null >>"$log" 2>&1 &
            started=$!
            tries=0
            while [ $tries -lt 100 ]; do
              if [ -S "$socket" ] && [ -s "$pidfile" ]; then echo "\(Self.marker)started $(cat "$pidfile")"; exit 0; fi
              kill -0 $started 2>/dev/null || break
              sleep 0.1
              tries=$((tries + 1))
            done
            echo "\(Self.marker)failed $(tail -n 3 "$log" 2>/dev/null | tr '\\n' ' ')"
            """
        let answered = await client.run(
            ["sh", "-c", script, "slipway-ssh", stateDirectory, socket, pidFile, log, program] + arguments,
            timeout: .seconds(30)
        )
        let answers = MarkedAnswers(answered.output, marker: Self.marker)
        if answers.first("running") == nil, answered.ending != .exited(SSHClient.connectionFailureStatus) {
            // It was started, or tried: that changed the host.
            client.report?(
                RemoteCommand(
                    action: "startDataPlane",
                    host: client.host.name,
                    words: [program, "--state", stateDirectory] + arguments,
                    outcome: answers.first("started").map { "started with pid \($0)" }
                        ?? answers.first("failed").map { "failed: \($0)" } ?? answered.summary(timeout: .seconds(30)),
                    succeeded: answers.first("started") != nil,
                    duration: answered.duration
                )
            )
        }
        guard answered.succeeded, !answers.pairs.isEmpty else {
            throw HostDataPlaneError(
                "cannot reach the data plane of \(client.host.name): \(HostProbe.problem(in: answered))"
            )
        }
        if let pid = answers.first("running").flatMap(Int32.init) { return .running(pid) }
        if let pid = answers.first("started").flatMap(Int32.init) { return .started(pid) }
        if answers.first("missing") != nil {
            throw HostDataPlaneError(
                "\(client.host.name) has no \(program): run `slipway hosts install` to put this build's programs there"
            )
        }
        throw HostDataPlaneError(
            "the data plane of \(client.host.name) did not start: \(answers.first("failed") ?? answered.output)"
        )
    }

    /// Stops the data plane the pid file names, if one runs: SIGTERM (its listeners close and requests in flight
    /// finish), SIGKILL after `grace`. Returns its pid; nil when none ran.
    public func stopRunning(grace: Duration = .seconds(10)) async throws(HostDataPlaneError) -> Int32? {
        let script = """
            pidfile=$1 tenths=$2
            pid=$(cat "$pidfile" 2>/dev/null)
            if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "\(Self.marker)none"; exit 0; fi
            kill -TERM "$pid"
            tries=0
            while kill -0 "$pid" 2>/dev/null && [ $tries -lt "$tenths" ]; do sleep 0.1; tries=$((tries + 1)); done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
            echo "\(Self.marker)stopped $pid"
            """
        let tenths = max(1, Int(grace.inMilliseconds / 100))
        let answered = await client.change(
            "stopDataPlane",
            words: ["kill", "-TERM", "$(cat \(pidFile))"],
            ["sh", "-c", script, "slipway-ssh", pidFile, String(tenths)],
            timeout: grace + .seconds(20)
        )
        let answers = MarkedAnswers(answered.output, marker: Self.marker)
        guard answered.succeeded, !answers.pairs.isEmpty else {
            throw HostDataPlaneError(
                "cannot stop the data plane of \(client.host.name): \(HostProbe.problem(in: answered))"
            )
        }
        return answers.first("stopped").flatMap(Int32.init)
    }

    /// Starts a tunnel forwarding the local Unix socket `local` to the data plane's socket on the host, writing what
    /// `ssh` says to `log` (a local file).
    public func openTunnel(local: String, log: String) throws(HostDataPlaneError) -> Tunnel {
        let ssh: String
        switch ExecutableResolver.resolve("ssh", baseDirectory: "/") {
        case .success(let path): ssh = path
        case .failure(let error): throw HostDataPlaneError("cannot run ssh: \(error)")
        }
        unlink(local)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ssh)
        process.arguments = client.tunnelArguments(local: local, remote: socket)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let output = FileHandle(forWritingAtPath: log)
        output?.seekToEndOfFile()
        process.standardError = output ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? output?.close()
            throw HostDataPlaneError("cannot start an SSH tunnel to \(client.host.name): \(error)")
        }
        try? output?.close()
        return Tunnel(process: process, local: local)
    }

    /// A running `ssh` that forwards a local socket to the host's data plane.
    public final class Tunnel: @unchecked Sendable {
        // Process is safe to read and terminate from any thread; it is never changed after `run`.
        private let process: Process
        /// The local end.
        public let local: String

        init(process: Process, local: String) {
            self.process = process
            self.local = local
        }

        /// Whether the `ssh` still runs.
        public var isRunning: Bool { process.isRunning }

        /// Whether the local end is there to connect to.
        public var isListening: Bool {
            var info = stat()
            return lstat(local, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
        }

        /// Ends the tunnel (connections through it end too); the data plane goes on serving.
        public func close() {
            if process.isRunning { process.terminate() }
            unlink(local)
        }
    }
}

/// A host's data plane could not be started or reached.
public struct HostDataPlaneError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}
