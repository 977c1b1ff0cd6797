import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SlipwayCore
import SlipwayProxy

/// Where a controller's data plane runs.
public enum DataPlaneMode: Sendable, Equatable {
    /// Inside the controller's process: it ends with the controller. For tests and embedding.
    case embedded
    /// In a `slipway-dataplane` process of its own that outlives the controller. `executable` nil: the file of that
    /// name beside the running executable.
    case process(executable: String?)
}

/// The controller's side of its data plane: attaches to the one serving the state directory or starts one, and
/// starts it again when it goes away.
final class DataPlaneLink: Sendable {
    /// Why no data plane could be had. Nothing was started.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What the controller drives.
    let router: any TrafficRouter
    private let client: DataPlaneClient?
    private let embedded: DataPlane?
    private let paths: DataPlanePaths
    private let executable: String
    private let threads: Int
    private let logger: Logger
    /// How the data plane process writes its messages (to `dataplane.log`).
    private let logFormat: LogFormat
    /// The tracing arguments of a data plane process (none when traces are not exported).
    private let tracingArguments: [String]
    private let state = NIOLockedValueBox(LinkState())

    private struct LinkState {
        var stopping = false
        /// A lost data plane is being started again: a connection that ends meanwhile (one made to the new process
        /// while it starts) is part of that, not a second loss.
        var restarting = false
        var process: Process?
        var observer: (@Sendable (EventKind, [String: JSONValue]) -> Void)?
    }

    init(
        mode: DataPlaneMode,
        stateDirectory: String,
        threads: Int,
        group: any EventLoopGroup,
        logger: Logger,
        logFormat: LogFormat = .text,
        tracing: (export: TracingExport, requests: RequestTracing)? = nil
    ) {
        self.paths = DataPlanePaths(stateDirectory: stateDirectory)
        self.threads = threads
        self.logger = logger
        self.logFormat = logFormat
        self.tracingArguments = tracing?.export.arguments ?? []
        switch mode {
        case .embedded:
            let dataPlane = DataPlane(group: group, stateFile: nil, tracing: tracing?.requests)
            self.embedded = dataPlane
            self.client = nil
            self.router = dataPlane
            self.executable = ""
        case .process(let executable):
            let client = DataPlaneClient(path: paths.socket)
            self.client = client
            self.embedded = nil
            self.router = client
            self.executable = executable ?? Self.sibling("slipway-dataplane")
        }
    }

    /// The file `name` in the directory of the running executable.
    static func sibling(_ name: String) -> String {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Whether a data plane process runs for `stateDirectory` (its pid file names a live process).
    static func runs(stateDirectory: String) -> Bool {
        let paths = DataPlanePaths(stateDirectory: stateDirectory)
        guard let text = try? String(contentsOfFile: paths.pid, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return false }
        return kill(pid, 0) == 0
    }

    /// The in-process data plane, when there is one.
    var inProcess: DataPlane? { embedded }

    /// Attaches to the data plane serving the state directory, or starts one. `observe` is told what happened
    /// (and later, each time the data plane is lost and started again).
    func connect(observe: @escaping @Sendable (EventKind, [String: JSONValue]) -> Void) async throws(Failure) {
        state.withLockedValue { $0.observer = observe }
        guard let client else {
            observe(
                .dataPlaneStarted,
                ["pid": .int(Int(getpid())), "build": .string(SlipwayBuild.version), "reason": "embedded"]
            )
            return
        }
        await client.onLost { [weak self] in
            Task { await self?.lost() }
        }
        do {
            let status = try await client.connect()
            observe(.dataPlaneAttached, Self.fields(status))
            return
        } catch let error as DataPlaneClient.Unreachable where FileManager.default.fileExists(atPath: paths.socket) {
            // A socket that refuses the greeting is a live data plane of another protocol: never start a second.
            if let pid = runningPid() {
                throw Failure(
                    description: "a data plane (pid \(pid)) serves \(paths.socket) but cannot be driven: \(error). "
                        + "Stop it with the slipway that started it (slipway down), then start again"
                )
            }
        } catch {}
        let status = try await start()
        observe(.dataPlaneStarted, Self.fields(status).merging(["reason": "none was running"]) { $1 })
    }

    private static func fields(_ status: DataPlaneStatus) -> [String: JSONValue] {
        let uptime = Int64(Date().timeIntervalSince1970 * 1000) - status.startedAtMs
        return ["pid": .int(Int(status.pid)), "build": .string(status.build), "uptimeMs": .int(Int(max(0, uptime)))]
    }

    /// The pid in the pid file, when that process still runs.
    private func runningPid() -> Int32? {
        guard let text = try? String(contentsOfFile: paths.pid, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// Starts `slipway-dataplane` for the state directory and connects to it.
    private func start() async throws(Failure) -> DataPlaneStatus {
        guard let client else { throw Failure(description: "no data plane process in embedded mode") }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "the data plane executable \(executable) is missing or not executable")
        }
        guard paths.socket.utf8.count < 108 else {
            throw Failure(
                description:
                    "the control socket path \(paths.socket) is too long for a Unix socket (max 107 bytes); use a shorter stateDir"
            )
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--state", (paths.socket as NSString).deletingLastPathComponent, "--threads", String(threads),
                "--log-format", logFormat.rawValue,
            ] + tracingArguments
        if !FileManager.default.fileExists(atPath: paths.log) {
            _ = FileManager.default.createFile(atPath: paths.log, contents: nil)
        }
        do {
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: paths.log))
            log.seekToEndOfFile()
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? log.close()
        } catch {
            throw Failure(description: "cannot start the data plane \(executable): \(error)")
        }
        state.withLockedValue { $0.process = process }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let tail =
                    (try? String(contentsOfFile: paths.log, encoding: .utf8))?
                    .split(separator: "\n").suffix(3).joined(separator: " | ") ?? ""
                throw Failure(description: "the data plane exited with status \(process.terminationStatus): \(tail)")
            }
            if let status = try? await client.connect() { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        process.terminate()
        throw Failure(description: "the data plane did not answer on \(paths.socket) within 10s")
    }

    /// The data plane went away while the controller runs: a new one comes back with the routes saved on disk, and
    /// the client sets the last routes again.
    private func lost() async {
        let observer = state.withLockedValue { state -> (@Sendable (EventKind, [String: JSONValue]) -> Void)? in
            guard !state.stopping, !state.restarting, let observer = state.observer else { return nil }
            state.restarting = true
            return observer
        }
        guard let observe = observer else { return }
        defer { state.withLockedValue { $0.restarting = false } }
        let previous = await client?.greeting
        observe(.dataPlaneLost, ["pid": .int(Int(previous?.pid ?? 0)), "reason": "its control connection ended"])
        var attempt = 0
        while state.withLockedValue({ !$0.stopping }) {
            attempt += 1
            do {
                let status = try await start()
                observe(.dataPlaneStarted, Self.fields(status).merging(["reason": "the last one ended"]) { $1 })
                return
            } catch {
                logger.error("cannot start the data plane again (attempt \(attempt)): \(error)")
                try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
            }
        }
    }

    /// What the data plane says about itself now; nil when it cannot be asked.
    func status() async -> DataPlaneStatus? {
        guard let client else {
            return DataPlaneStatus(
                pid: getpid(),
                build: SlipwayBuild.version,
                protocolVersion: ControlProtocol.version,
                startedAtMs: 0,
                listeners: await embedded?.bound ?? [:]
            )
        }
        return try? await client.status()
    }

    /// Lets the data plane go on serving without this controller.
    func detach() async {
        state.withLockedValue { $0.stopping = true }
        await client?.disconnect()
    }

    /// Stops the data plane: its listeners close, requests in flight finish, its saved routes are forgotten.
    func shutdown() async {
        state.withLockedValue { $0.stopping = true }
        if let embedded {
            // It ends with this process: connections close with the event loops, as they always did in process.
            await embedded.shutdown(within: .zero)
            return
        }
        guard let client else { return }
        let pid = await client.greeting?.pid
        try? await client.shutdown()
        await client.disconnect()
        if let pid {
            let deadline = ContinuousClock.now + .seconds(10)
            while kill(pid, 0) == 0, ContinuousClock.now < deadline {
                if let process = state.withLockedValue({ $0.process }), !process.isRunning { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
