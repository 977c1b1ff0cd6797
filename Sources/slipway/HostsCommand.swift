import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform

/// `slipway hosts`: looks at every host of the config over SSH and says what it found.
struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "Look at every host in the config over SSH: reachable or why not, its system, Slipway's folder.",
        discussion: "Exits 0 when every host answered, 4 when one did not, 2 on a bad config."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("How long connecting to a host may take, like 5s.", valueName: "duration"))
    var connectTimeout = "5s"

    @Flag(help: "Print the reports as JSON.")
    var json = false

    func validate() throws {
        guard let duration = DurationText.parse(connectTimeout), duration >= .seconds(1) else {
            throw ValidationError(
                "--connect-timeout: expected a duration of 1s or more, like 5s, got \"\(connectTimeout)\""
            )
        }
    }

    func run() async throws {
        let config = try options.load()
        guard !config.hosts.isEmpty else {
            if json {
                print("[]")
            } else {
                print("no hosts in \(options.file): apps run on this machine")
            }
            return
        }
        let sockets: String
        do {
            sockets = try SSHClient.defaultControlDirectory()
        } catch {
            FileHandle.standardErrorWrite("error: \(error.description)")
            throw ExitCode(ExitStatus.unreachable)
        }
        let reports = await HostProbe.look(
            at: config.hosts,
            controlDirectory: sockets,
            connectTimeout: DurationText.parse(connectTimeout)!
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            print(Self.table(reports))
        }
        if reports.contains(where: { !$0.reachable }) { throw ExitCode(ExitStatus.unreachable) }
    }

    /// One line per host: name, destination, state, then what was found or why not.
    static func table(_ reports: [HostReport]) -> String {
        let rows = reports.map { report -> [String] in
            guard report.reachable else {
                return [report.name, report.destination, "unreachable", report.problem ?? "", ""]
            }
            let slipway =
                !report.directoryExists
                ? "no Slipway folder yet" : report.binariesInstalled ? "binaries installed" : "folder, no binaries"
            return [report.name, report.destination, "reachable", report.system ?? "", slipway]
        }
        let header = ["HOST", "SSH", "STATE", "SYSTEM / PROBLEM", "SLIPWAY"]
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
