import SlipwayConfig
import SlipwayCore

/// Runs instances of releases: ``LocalPlatform`` on this machine, ``SSHPlatform`` on a host over SSH; Kubernetes
/// later, behind the same protocol.
///
/// An instance never depends on the controller that started it: it keeps running, its output keeps being captured
/// and its exit status is kept when no controller runs. A later controller takes it over with ``adopt(_:reference:host:port:)``
/// from the ``InstanceHandle/reference`` the first one recorded.
public protocol Platform: Sendable {
    /// Starts one instance and returns once it runs (not once it is healthy).
    func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle

    /// Stops an instance gracefully with its launch request's stop signal, then `SIGKILL` after its grace period.
    /// Returns once it has exited.
    func stop(_ instance: InstanceID) async

    /// Every instance exit, expected or not, in the order they happen.
    var exits: AsyncStream<InstanceExit> { get }

    /// Takes over an instance of `version` (nil when unknown) an earlier controller started, from the reference its
    /// handle carried. Nil when the platform knows nothing of it. When it ended while nobody watched, the handle is
    /// returned and its exit, with the real status, is reported on ``exits`` right after. From then on it is stopped
    /// and its exit reported like any other.
    func adopt(
        _ instance: InstanceID,
        version: String?,
        reference: String,
        host: String,
        port: Int
    ) async -> InstanceHandle?

    /// Before a controller takes over `app`: stops every instance of it the platform still runs that is not in
    /// `known` (one an earlier controller started and was stopped before it could record), and returns them with
    /// the highest instance number the platform has ever used for the app, so that no number is used twice.
    func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed

    /// Sends `signal` to the instance's own processes (not to its supervisor), for chaos: `SIGKILL` crashes it,
    /// `SIGSTOP` freezes it until `SIGCONT`. False when the platform runs no such instance.
    func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool

    /// The last `lines` lines the instance wrote to standard error (running or not, as long as its logs are kept),
    /// oldest first; empty when it wrote none.
    func stderrTail(of instance: InstanceID, lines: Int) async -> [String]
}

extension Platform {
    /// Takes over an instance whose version is not known; see ``adopt(_:version:reference:host:port:)``.
    public func adopt(_ instance: InstanceID, reference: String, host: String, port: Int) async -> InstanceHandle? {
        await adopt(instance, version: nil, reference: reference, host: host, port: port)
    }
}

/// What ``Platform/reclaim(app:keeping:)`` found.
public struct Reclaimed: Sendable, Equatable {
    /// Instances that ran unknown to the event log, now asked to stop.
    public var stopped: [InstanceID]
    /// The highest instance number the platform has a trace of (0 when none).
    public var highestNumber: Int

    /// Creates the result.
    public init(stopped: [InstanceID], highestNumber: Int) {
        self.stopped = stopped
        self.highestNumber = highestNumber
    }
}

/// What to start.
public struct LaunchRequest: Sendable, Equatable {
    /// The app the instance belongs to.
    public var app: String
    /// The release to run.
    public var version: String
    /// The new instance's identity.
    public var instance: InstanceID
    /// How to run it.
    public var run: RunSpec
    /// How much of its output to keep.
    public var logs: LogSpec
    /// Where relative executable paths resolve (the config file's directory).
    public var baseDirectory: String

    /// Creates a request.
    public init(
        app: String,
        version: String,
        instance: InstanceID,
        run: RunSpec,
        logs: LogSpec,
        baseDirectory: String
    ) {
        self.app = app
        self.version = version
        self.instance = instance
        self.run = run
        self.logs = logs
        self.baseDirectory = baseDirectory
    }
}

/// A running instance.
public struct InstanceHandle: Sendable, Equatable {
    /// Its identity.
    public var id: InstanceID
    /// What the platform needs to find it again after a controller restart; opaque to everyone else.
    public var reference: String
    /// Its process id, for people to read (0 when the platform has none).
    public var pid: Int32
    /// The process id of the supervisor that owns its output and exit status, when there is one.
    public var supervisorPid: Int32?
    /// The address it serves on.
    public var host: String
    /// The port it serves on.
    public var port: Int
    /// Where its standard output goes.
    public var stdoutLog: String
    /// Where its standard error goes.
    public var stderrLog: String

    /// A handle.
    public init(
        id: InstanceID,
        reference: String,
        pid: Int32,
        supervisorPid: Int32?,
        host: String,
        port: Int,
        stdoutLog: String,
        stderrLog: String
    ) {
        self.id = id
        self.reference = reference
        self.pid = pid
        self.supervisorPid = supervisorPid
        self.host = host
        self.port = port
        self.stdoutLog = stdoutLog
        self.stderrLog = stderrLog
    }
}

/// How an instance process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status code.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)
    /// Nothing recorded how it ended (a supervisor killed with it, or a process of an older controller).
    case unknown

    public var description: String {
        switch self {
        case .unknown: return "unknown status"
        case .exited(let code): return "status \(code)"
        case .signaled(let signal): return "signal \(signal)\(SignalName.of(signal).map { " (\($0))" } ?? "")"
        }
    }
}

/// The end of an instance.
public struct InstanceExit: Sendable, Equatable {
    /// Which instance.
    public var id: InstanceID
    /// How it ended.
    public var status: ExitStatus
    /// How long it ran.
    public var ranFor: Duration
    /// The last lines it wrote to standard error, for the event that reports the exit.
    public var stderrTail: [String]

    /// An exit.
    public init(id: InstanceID, status: ExitStatus, ranFor: Duration, stderrTail: [String]) {
        self.id = id
        self.status = status
        self.ranFor = ranFor
        self.stderrTail = stderrTail
    }
}

/// Why an instance could not be started.
public enum LaunchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command's executable is not where it was looked for.
    case executableNotFound(String, searched: [String])
    /// The path exists but cannot be executed.
    case notExecutable(String)
    /// No free loopback port could be found.
    case noFreePort(String)
    /// The log files could not be created.
    case logFiles(String)
    /// The operating system refused to start the process.
    case spawnFailed(String)
    /// The release's artifact could not be put where the instance runs.
    case release(String)

    public var description: String {
        switch self {
        case .executableNotFound(let name, let searched):
            return "executable \"\(name)\" not found (looked in: \(searched.joined(separator: ", ")))"
        case .notExecutable(let path):
            return "\"\(path)\" is not an executable file"
        case .noFreePort(let reason):
            return "no free loopback port: \(reason)"
        case .logFiles(let reason):
            return "cannot create log files: \(reason)"
        case .spawnFailed(let reason):
            return "cannot start process: \(reason)"
        case .release(let reason):
            return "cannot put the release in place: \(reason)"
        }
    }
}

/// Names of the common signals, for messages.
public enum SignalName {
    /// `SIGKILL` for 9, and so on; nil for an uncommon signal.
    public static func of(_ signal: Int32) -> String? {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV",
            12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
        ]
        return names[signal]
    }
}
