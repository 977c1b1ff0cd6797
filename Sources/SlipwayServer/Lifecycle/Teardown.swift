import Foundation
import Logging
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayKubernetes
import SlipwayPlatform
import SlipwayProxy
import SlipwayStore

/// Stops what a controller left serving when it stopped alone (or was killed): every instance still running and the
/// data plane, with their ends in the event log. For `slipway down` when no controller runs.
public enum Teardown {
    /// What was stopped.
    public struct Report: Sendable {
        /// Instances stopped, with how they ended.
        public var instances: [(id: InstanceID, status: String)] = []
        /// The data plane's pid, when one was stopped.
        public var dataPlane: Int32?
        /// Each host's data plane stopped (its pid), by host.
        public var hostDataPlanes: [(host: String, pid: Int32)] = []
        /// What could not be done on hosts (a host that could not be reached).
        public var problems: [String] = []
    }

    /// Stops the leftovers of `config`'s state directory. Throws when a controller holds it (stop that one instead).
    public static func run(_ config: SlipwayConfig) async throws -> Report {
        let directory = config.controller.stateDirectory
        let lock = try StateDirectoryLock(directory: directory)
        defer { lock.release() }
        var report = Report()
        let paths = DataPlanePaths(stateDirectory: directory)
        if FileManager.default.fileExists(atPath: paths.socket) {
            let client = DataPlaneClient(path: paths.socket)
            if let status = try? await client.connect() {
                try? await client.shutdown()
                await client.disconnect()
                _ = await ControllerProcess.stop(status.pid, signal: 0, timeout: .seconds(10))
                report.dataPlane = status.pid
            }
        }
        guard FileManager.default.fileExists(atPath: directory + "/slipway.sqlite") else { return report }
        let log = try EventLog(directory: directory)
        let fleet = try HostFleet(config: config, threads: 1, logFormat: .text, logger: Logger(label: "slipway.down"))
        let kubernetes = try KubernetesSetup.platform(for: config)
        let platform = fleet.platform(
            local: LocalPlatform(stateDirectory: directory),
            kubernetes: kubernetes,
            apps: config.apps
        )
        var adopted: [InstanceID] = []
        for app in config.apps {
            let recovered = RecoveredState.fold(try log.events(app: app.name, limit: .max))
            for instance in recovered.alive.values.sorted(by: { $0.id < $1.id }) {
                let reference = instance.reference ?? "pid:\(instance.pid)"
                guard
                    await platform.adopt(instance.id, reference: reference, host: instance.host, port: instance.port)
                        != nil
                else { continue }
                adopted.append(instance.id)
            }
            // Instances whose start no controller recorded are stopped too.
            let reclaimed = await platform.reclaim(app: app.name, keeping: Set(recovered.alive.keys))
            let reason = "slipway down; started by a controller that stopped before recording it"
            for event in reclaimed.events(app: app.name, reason: reason) { log.appendLogged(event) }
            for id in reclaimed.stopped { report.instances.append((id, "stopped")) }
        }
        var exits = platform.exits.makeAsyncIterator()
        await withTaskGroup(of: Void.self) { group in
            for id in adopted { group.addTask { await platform.stop(id) } }
        }
        for _ in adopted {
            guard let exit = await exits.next() else { break }
            log.appendLogged(
                Event(
                    app: exit.id.app,
                    kind: .instanceExited,
                    instance: exit.id,
                    fields: [
                        "status": .string(exit.status.description),
                        "expected": true,
                        "ranForMs": .int(Int(exit.ranFor.components.seconds * 1000)),
                        "reason": "slipway down",
                    ]
                )
            )
            report.instances.append((exit.id, exit.status.description))
        }
        for (host, result) in await fleet.stopDataPlanes() {
            switch result {
            case .success(let pid?): report.hostDataPlanes.append((host, pid))
            case .success(nil): break
            case .failure(let error): report.problems.append(error.description)
            }
        }
        for app in config.apps {
            log.appendLogged(Event(app: app.name, kind: .controllerStopped, fields: ["reason": "slipway down"]))
        }
        await fleet.closeConnections()
        await kubernetes?.shutdown()
        return report
    }
}

extension EventLog {
    fileprivate func appendLogged(_ event: Event) {
        do {
            _ = try append([event])
        } catch {
            FileHandle.standardError.write(Data("slipway: cannot record \(event.kind): \(error)\n".utf8))
        }
    }
}
