import ArgumentParser
import Foundation
import SlipwayServer

/// `slipway deploy APP --version V`: start a rollout on the running controller.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Roll out a new version of an app with its strategy.",
        discussion: """
            Exit codes: 0 started (with --wait: promoted), 1 refused because of the app's state (with --wait: \
            rolled back, aborted, superseded or still running at --timeout), 2 bad usage or unknown app, \
            4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @Option(help: "The candidate version.")
    var version: String

    @Option(help: "Another strategy than the app's: recreate, rolling, blueGreen or canary.")
    var strategy: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp("An environment variable for the candidate's instances (repeatable).", valueName: "K=V")
    )
    var env: [String] = []

    @Flag(help: "Abort a running rollout first instead of being refused.")
    var supersede = false

    @Option(help: "Why, recorded with the rollout.")
    var reason: String?

    @OptionGroup var waiting: WaitOptions

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func validate() throws {
        guard !version.isEmpty else { throw ValidationError("--version must not be empty") }
        _ = try environment()
    }

    /// `--env` as a dictionary; a later `K=…` replaces an earlier one.
    func environment() throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in env {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--env: expected K=V, got \"\(entry)\"")
            }
            result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    func run() async throws {
        let request = DeployRequest(
            version: version,
            strategy: strategy,
            env: try environment(),
            supersede: supersede,
            by: controller.user,
            reason: reason
        )
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let summary = try await client.post(app: app, "deploy", body: request, as: RolloutSummary.self)
            if !json { ControllerCall.printLine(Self.startedLine(summary)) }
            return try await waiting.finish(summary, via: client, json: json)
        }
    }

    /// `shop: rollout #3 1.0.0 → 2.0.0 (canary) started`.
    static func startedLine(_ summary: RolloutSummary) -> String {
        summary.isFinished ? "\(summary.title) \(summary.stateText)" : "\(summary.title) started"
    }
}
