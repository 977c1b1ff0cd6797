import Foundation
import Logging
import NIOConcurrencyHelpers
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform
import SlipwayProxy

/// The controller's side of one host's data plane: starts it there when none runs, reaches its control socket through
/// an SSH tunnel, and when the connection ends (the tunnel, the host or the data plane went away) makes it again
/// for as long as the controller runs, the data plane getting back its listeners and routes.
final class HostDataPlaneLink: Sendable {
    /// The host.
    let host: HostSpec
    /// What the controller drives: the data plane at the tunnel's local end.
    let client: DataPlaneClient
    /// Starts and stops the data plane on the host.
    let launcher: HostDataPlaneLauncher
    private let localSocket: String
    private let tunnelLog: String
    private let logger: Logger
    private let state = NIOLockedValueBox(LinkState())

    private struct LinkState {
        var stopping = false
        var reconnecting = false
        var tunnel: HostDataPlaneLauncher.Tunnel?
        var observer: (@Sendable (EventKind, [String: JSONValue]) -> Void)?
    }

    /// A link to `host`'s data plane; the tunnel's local end and its log are in `directory` (a folder of the
    /// controller's state directory).
    init(host: HostSpec, ssh: SSHClient, directory: String, threads: Int, logFormat: LogFormat, logger: Logger) {
        self.host = host
        self.logger = logger
        let remote = DataPlanePaths(stateDirectory: host.directory + "/state")
        self.launcher = HostDataPlaneLauncher(
            client: ssh,
            stateDirectory: host.directory + "/state",
            socket: remote.socket,
            pidFile: remote.pid,
            log: remote.log,
            arguments: ["--threads", String(threads), "--log-format", logFormat.rawValue]
        )
        self.localSocket = directory + "/\(host.name).sock"
        self.tunnelLog = directory + "/\(host.name).tunnel.log"
        self.client = DataPlaneClient(path: localSocket)
    }

    /// The local socket's path fits a Unix socket address.
    static func fits(directory: String, host: String) -> Bool {
        (directory + "/\(host).sock").utf8.count < 108
    }

    /// Starts the host's data plane when none runs, opens the tunnel and connects. `observe` is told what happened
    /// (and later, each time the connection is lost and made again), with the host's name among the fields.
    func connect(observe: @escaping @Sendable (EventKind, [String: JSONValue]) -> Void) async throws(HostDataPlaneError)
    {
        state.withLockedValue { $0.observer = observe }
        await client.onLost { [weak self] in
            Task { await self?.lost() }
        }
        let (kind, fields) = try await attach()
        observe(kind, fields)
    }

    /// One attempt: the data plane runs there, the tunnel is open, the client is connected.
    private func attach() async throws(HostDataPlaneError) -> (EventKind, [String: JSONValue]) {
        let found = try await launcher.ensureRunning()
        let previous = state.withLockedValue { state -> HostDataPlaneLauncher.Tunnel? in
            defer { state.tunnel = nil }
            return state.tunnel
        }
        previous?.close()
        let tunnel = try launcher.openTunnel(local: localSocket, log: tunnelLog)
        state.withLockedValue { $0.tunnel = tunnel }
        let deadline = ContinuousClock.now + .seconds(10)
        var lastError = "the tunnel did not open"
        while ContinuousClock.now < deadline {
            guard tunnel.isRunning else {
                lastError = "the SSH tunnel ended: \(tunnelProblem())"
                break
            }
            if tunnel.isListening {
                do {
                    let status = try await client.connect()
                    var fields = Self.fields(status)
                    fields["host"] = .string(host.name)
                    switch found {
                    case .running: return (.dataPlaneAttached, fields)
                    case .started: return (.dataPlaneStarted, fields.merging(["reason": "none was running"]) { $1 })
                    }
                } catch {
                    lastError = "\(error)"
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        tunnel.close()
        throw HostDataPlaneError("cannot drive the data plane of \(host.name): \(lastError)")
    }

    private static func fields(_ status: DataPlaneStatus) -> [String: JSONValue] {
        let uptime = Int64(Date().timeIntervalSince1970 * 1000) - status.startedAtMs
        return ["pid": .int(Int(status.pid)), "build": .string(status.build), "uptimeMs": .int(Int(max(0, uptime)))]
    }

    /// The last line `ssh` wrote to the tunnel's log.
    private func tunnelProblem() -> String {
        let text = (try? String(contentsOfFile: tunnelLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").last.map(String.init) ?? "no message"
    }

    /// The connection ended while the controller runs: made again, with a growing pause between attempts (at most
    /// 2 s), until it is back or the controller stops.
    private func lost() async {
        let observer = state.withLockedValue { state -> (@Sendable (EventKind, [String: JSONValue]) -> Void)? in
            guard !state.stopping, !state.reconnecting, let observer = state.observer else { return nil }
            state.reconnecting = true
            return observer
        }
        guard let observe = observer else { return }
        defer { state.withLockedValue { $0.reconnecting = false } }
        let previous = await client.greeting
        observe(
            .dataPlaneLost,
            [
                "pid": .int(Int(previous?.pid ?? 0)), "host": .string(host.name),
                "reason": "its control connection through SSH ended",
            ]
        )
        var attempt = 0
        while state.withLockedValue({ !$0.stopping }) {
            attempt += 1
            do {
                let (kind, fields) = try await attach()
                guard state.withLockedValue({ !$0.stopping }) else { return }
                observe(kind, fields.merging(["reason": "the connection was lost"]) { $1 })
                return
            } catch {
                if attempt == 1 || attempt % 10 == 0 {
                    logger.warning("cannot reach the data plane of \(host.name) again (attempt \(attempt)): \(error)")
                }
                try? await Task.sleep(for: .milliseconds(min(2000, 200 * attempt)))
            }
        }
    }

    /// Removes the tunnel's local end an earlier controller may have left, so that a call made before
    /// ``connect(observe:)`` fails at once instead of waiting on a tunnel to a host that cannot be reached.
    func removeStaleEnd() {
        unlink(localSocket)
    }

    /// Ends the tunnel now, as a host the network no longer reaches would: the connection is lost, and made again
    /// once SSH reaches the host.
    func dropTunnel() {
        state.withLockedValue { $0.tunnel }?.close()
    }

    /// Lets the host's data plane go on serving without this controller.
    func detach() async {
        state.withLockedValue { $0.stopping = true }
        await client.disconnect()
        state.withLockedValue { $0.tunnel }?.close()
    }

    /// Stops the host's data plane: its listeners close, requests in flight finish.
    func shutdown() async {
        state.withLockedValue { $0.stopping = true }
        try? await client.shutdown()
        await client.disconnect()
        state.withLockedValue { $0.tunnel }?.close()
    }
}
