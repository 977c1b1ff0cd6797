import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayStore

/// `slipway report APP [ROLLOUT] [--json] [--output FILE]`: where a rollout's report is, or the report itself.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show where a rollout's report is: its steps, traffic, decisions, failed requests and stderr.",
        discussion: """
            The report of every rollout (above all a rollback) is a page of the controller, at \
            /reports/APP/ROLLOUT, and the same facts as JSON at /api/v1/apps/APP/rollouts/ROLLOUT/report. This \
            command reads the state directory, so it works while no controller runs: --json prints the report, \
            --output writes the page to a file that opens anywhere (it loads nothing from elsewhere).
            """
    )

    @Argument(help: "The app.")
    var app: String

    @Argument(help: "The rollout's number (default: the newest).")
    var rollout: Int?

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var state: StateOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(name: [.customShort("o"), .long], help: "Write the report's HTML page to this file.")
    var output: String?

    func validate() throws {
        if let rollout, rollout < 1 { throw ValidationError("ROLLOUT is a rollout number from 1, got \(rollout)") }
    }

    func run() throws {
        let app = target.qualified(self.app)
        let log = try state.openLog()
        let report: RolloutReport
        do {
            report = try RolloutReport.load(from: log, app: app, rollout: rollout)
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
        if let output {
            do {
                try Data(report.htmlPage().utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                FileHandle.standardErrorWrite(
                    "error: cannot write the report to \(output): \(error.localizedDescription)"
                )
                throw ExitCode(ExitStatus.badInput)
            }
        }
        if json {
            print(try JSONOutput.encode(report))
            return
        }
        let record = report.record
        let outcome = record.outcome.map { $0 == "rolledBack" ? "rolled back" : $0 } ?? record.state
        print("rollout #\(record.number) of \(app): \(record.from) → \(record.to), \(outcome)")
        if let why = record.endReason, record.outcome != "promoted" { print("why: \(why)") }
        let path = ReportRoutes.pagePath(app: app, rollout: record.number)
        let config = FileManager.default.fileExists(atPath: state.config.file) ? try? state.config.load() : nil
        if let base = config.flatMap({ Controller.dashboardLink($0.controller) }) {
            print("report: \(base)\(path)")
        } else {
            print("report: \(path) on the controller's API address")
        }
        print("json:   \(ReportRoutes.jsonPath(app: app, rollout: record.number))")
        if let output { print("page written to \(output)") }
    }
}
