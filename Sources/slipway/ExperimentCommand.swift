import ArgumentParser
import Foundation
import SlipwayEngine
import SlipwayServer

/// `slipway experiment APP [--rollout N] [--json]`: the report of an A/B test.
struct ExperimentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Show the report of an app's A/B test: per variant the requests, each goal with its interval, "
            + "the effect against A, the split check and the verdict.",
        discussion: """
            The report of the running experiment, or of the newest one the event log recorded. An experiment ends \
            by a person's choice: `slipway promote APP` keeps B, `slipway abort APP` keeps A. Exit codes: 0 shown, \
            2 no such app or no experiment, 4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app (APP@ENV, or APP with --environment, in a configuration with environments).")
    var app: String

    @Option(help: "The rollout whose experiment to show (default: the newest that ran one).")
    var rollout: Int?

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if let rollout, rollout < 1 { throw ValidationError("--rollout must be at least 1, got \(rollout)") }
    }

    func run() async throws {
        let name = target.qualified(app)
        var path = ControllerClient.path(app: name, "experiment")
        if let rollout { path += "?rollout=\(rollout)" }
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let report = try await client.get(path, as: ExperimentReport.self)
            if json {
                try ControllerCall.printJSON(report)
            } else {
                for line in report.lines { ControllerCall.printLine(line) }
                if report.awaitingChoice || (report.state == "running" && report.primaryVerdict != .inconclusive) {
                    let variants = report.goals.first?.variants ?? []
                    if let control = variants.first, variants.count >= 2 {
                        let keep =
                            variants.count == 2
                            ? "`slipway promote \(name)` keeps \(variants[1].version)"
                            : variants.dropFirst().map {
                                "`slipway promote \(name) --variant \($0.name)` keeps \($0.version)"
                            }.joined(separator: ", ")
                        ControllerCall.printLine("")
                        ControllerCall.printLine("next: \(keep); `slipway abort \(name)` keeps \(control.version)")
                    }
                }
            }
            return ExitStatus.success
        }
    }
}
