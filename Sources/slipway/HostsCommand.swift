import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform
import SlipwayProxy

/// `slipway hosts [list|install]`: the hosts of the config, over SSH.
struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "Look at the hosts of the config over SSH, or install Slipway's programs on them.",
        subcommands: [HostsListCommand.self, HostsInstallCommand.self],
        defaultSubcommand: HostsListCommand.self
    )
}

/// The options every `slipway hosts` command takes.
struct HostsOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

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

    /// The hosts of the config and the folder of shared SSH connections; nil (after saying so) when there are none.
    func hosts() throws -> (hosts: [HostSpec], sockets: String)? {
        let loaded = try config.load()
        guard !loaded.hosts.isEmpty else {
            print(json ? "[]" : "no hosts in \(config.file): apps run on this machine")
            return nil
        }
        do {
            return (loaded.hosts, try SSHClient.defaultControlDirectory())
        } catch {
            FileHandle.standardErrorWrite("error: \(error.description)")
            throw ExitCode(ExitStatus.unreachable)
        }
    }

    /// Prints `reports` as JSON or as `table` does, then exits 4 when one `failed`.
    func finish<Report: Encodable>(
        _ reports: [Report],
        table: ([Report]) -> String,
        failed: (Report) -> Bool
    ) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            print(table(reports))
        }
        if reports.contains(where: failed) { throw ExitCode(ExitStatus.unreachable) }
    }
}

/// `slipway hosts` (`list`): looks at every host of the config over SSH and says what it found.
struct HostsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Look at every host in the config over SSH: reachable or why not, its system, Slipway's folder.",
        discussion: "Exits 0 when every host answered, 4 when one did not, 2 on a bad config."
    )

    @OptionGroup var options: HostsOptions

    func run() async throws {
        guard let (hosts, sockets) = try options.hosts() else { return }
        let reports = await HostProbe.look(
            at: hosts,
            controlDirectory: sockets,
            connectTimeout: DurationText.parse(options.connectTimeout)!,
            dataPlanePidFile: { DataPlanePaths(stateDirectory: $0.directory + "/state").pid }
        )
        try options.finish(reports, table: Self.table, failed: { !$0.reachable })
    }

    /// One line per host: name, destination, state, then what was found or why not: the system, Slipway's folder
    /// and programs, its data plane and the instances running there.
    static func table(_ reports: [HostReport]) -> String {
        let rows = reports.map { report -> [String] in
            guard report.reachable else {
                return [report.name, report.destination, "unreachable", report.problem ?? "", "", "", ""]
            }
            let slipway =
                !report.directoryExists
                ? "no Slipway folder yet" : report.binariesInstalled ? "binaries installed" : "folder, no binaries"
            let dataPlane = report.dataPlanePid.map { "pid \($0)" } ?? "none"
            let instances = report.instances.isEmpty ? "none" : report.instances.joined(separator: " ")
            return [report.name, report.destination, "reachable", report.system ?? "", slipway, dataPlane, instances]
        }
        return TextTable.render(
            header: ["HOST", "SSH", "STATE", "SYSTEM / PROBLEM", "SLIPWAY", "DATA PLANE", "INSTANCES"],
            rows: rows
        )
    }
}

/// `slipway hosts install`: puts this build's data plane and supervisor on every host, checked by SHA-256.
struct HostsInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install this build's data plane and supervisor on every host (only what is missing or differs).",
        discussion: """
            Each program goes to <directory>/bin/<version>/ on the host, sent over SSH, checked there against its \
            SHA-256 before it replaces anything. Exits 0 when every host has them, 4 when a host could not be \
            reached or refused them, 2 on a bad config.
            """
    )

    @OptionGroup var options: HostsOptions

    func run() async throws {
        guard let (hosts, sockets) = try options.hosts() else { return }
        let binaries: [HostBinary]
        do {
            binaries = try await HostBinary.bundled()
        } catch {
            FileHandle.standardErrorWrite("error: \(error.description)")
            throw ExitCode(ExitStatus.badInput)
        }
        let reports = await HostInstaller.install(
            binaries,
            on: hosts,
            controlDirectory: sockets,
            connectTimeout: DurationText.parse(options.connectTimeout)!
        )
        try options.finish(reports, table: Self.table, failed: { !$0.installed })
    }

    /// One line per host: name, destination, what was done, and where.
    static func table(_ reports: [HostInstallReport]) -> String {
        let rows = reports.map { report -> [String] in
            guard report.installed else { return [report.name, report.destination, "failed", report.problem ?? ""] }
            let copied = report.programs.filter { $0.action == "copied" }.map(\.name)
            let done =
                copied.isEmpty
                ? "up to date in \(report.folder)"
                : "copied \(copied.joined(separator: ", ")) (\(ByteSize.format(report.bytesCopied))) to \(report.folder)"
            return [report.name, report.destination, "installed", done]
        }
        return TextTable.render(header: ["HOST", "SSH", "STATE", "DONE / PROBLEM"], rows: rows)
    }
}

/// Columns padded to their widest cell, two spaces apart, the last one left as it is.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
