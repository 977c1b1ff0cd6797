import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwaySupervision

/// What one look at a host over SSH found: whether it answers, its system, and what of Slipway is there.
public struct HostReport: Sendable, Equatable, Codable {
    /// The host's name in the config.
    public var name: String
    /// Where SSH reached it (or tried to): `user@address:port`.
    public var destination: String
    /// Whether SSH could run a command there.
    public var reachable: Bool
    /// Why not, in SSH's words (`Connection timed out`, `Host key verification failed`); nil when reachable.
    public var problem: String?
    /// `uname -sm` there, e.g. `Linux x86_64`.
    public var system: String?
    /// Whether the folder Slipway owns there exists.
    public var directoryExists: Bool
    /// Whether this build's data plane and supervisor are installed in that folder (`bin/<version>/`, see
    /// ``HostInstaller``).
    public var binariesInstalled: Bool
    /// The pid of the data plane running there, when one runs.
    public var dataPlanePid: Int32?
    /// The instances running there under their supervisors (by instance id, e.g. `shop-4`), in order.
    public var instances: [String] = []
    /// How long the look took, in milliseconds.
    public var tookMs: Int
}

/// Looks at hosts over SSH, all at once.
public enum HostProbe {
    /// The lines the probe prints start with this, so that nothing else a host prints (a banner, a message of the
    /// day) is taken for an answer.
    static let marker = "slipway-probe:"

    /// Looks at every host, each within `timeout`; reports in the order of `hosts`. `dataPlanePidFile` names a host's
    /// data plane's pid file (nil: its data plane is not looked for). Unless `keepConnections`, the shared SSH
    /// connections end with the look.
    public static func look(
        at hosts: [HostSpec],
        controlDirectory: String,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(20),
        keepConnections: Bool = false,
        dataPlanePidFile: (@Sendable (HostSpec) -> String)? = nil
    ) async -> [HostReport] {
        await SSHClient.forEach(hosts, controlDirectory: controlDirectory, connectTimeout: connectTimeout) { client in
            let report = await look(
                with: client,
                timeout: timeout,
                dataPlanePidFile: dataPlanePidFile?(client.host) ?? ""
            )
            if !keepConnections, report.reachable { await client.closeSharedConnection() }
            return report
        }
    }

    /// Looks at one host.
    static func look(with client: SSHClient, timeout: Duration, dataPlanePidFile: String = "") async -> HostReport {
        let host = client.host
        let directory = host.directory
        let records = String(
            SupervisionPaths(stateDirectory: directory + "/state", app: "", instance: "").recordDirectory.dropLast()
        )
        // One command line, every value quoted; `sh -c` so that the script runs the same whatever the login shell.
        let script = """
            echo "\(marker)system $(uname -sm)"
            if [ -d "$1" ]; then echo "\(marker)directory yes"; else echo "\(marker)directory no"; fi
            if [ -x "$2/slipway-dataplane" ] && [ -x "$2/slipway-supervisor" ]; then
              echo "\(marker)binaries yes"
            else
              echo "\(marker)binaries no"
            fi
            pid=$([ -n "$3" ] && cat "$3" 2>/dev/null)
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "\(marker)dataplane $pid"; fi
            for record in "$4"/*/*.supervisor; do
              [ -e "$record" ] || continue
              supervisor=$(sed -n 's/^supervisor-pid=//p' "$record")
              if [ -n "$supervisor" ] && kill -0 "$supervisor" 2>/dev/null; then
                echo "\(marker)instance $(basename "$record" .supervisor)"
              fi
            done
            """
        let result = await client.run(
            [
                "sh", "-c", script, "slipway-probe", directory, HostInstaller.folder(directory: directory),
                dataPlanePidFile, records,
            ],
            timeout: timeout
        )
        var report = HostReport(
            name: host.name,
            destination: client.destination,
            reachable: false,
            problem: nil,
            system: nil,
            directoryExists: false,
            binariesInstalled: false,
            tookMs: Int(result.duration.milliseconds)
        )
        let answers = MarkedAnswers(result.output, marker: marker)
        guard result.succeeded, answers.first("system") != nil else {
            report.problem = problem(in: result)
            return report
        }
        report.reachable = true
        for (key, value) in answers.pairs {
            switch key {
            case "system": report.system = value
            case "directory": report.directoryExists = value == "yes"
            case "binaries": report.binariesInstalled = value == "yes"
            case "dataplane": report.dataPlanePid = Int32(value)
            case "instance": report.instances.append(value)
            default: break
            }
        }
        return report
    }

    /// Why a look failed, in a few words.
    public static func problem(in result: HookProcessResult) -> String {
        let lines = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix(marker) }
        let said = lines.last.map { ": \($0)" } ?? ""
        switch result.ending {
        case .exited(SSHClient.connectionFailureStatus): return "SSH could not connect\(said)"
        case .exited(let status): return "the probe exited with status \(status)\(said)"
        case .signaled(let signal): return "ssh was ended by signal \(signal)"
        case .timedOut: return "no answer in time"
        case .couldNotStart(let reason): return "ssh could not start: \(reason)"
        }
    }
}
