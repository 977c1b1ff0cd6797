import ArgumentParser
import SlipwayEngine

/// `slipway rollback APP`: go back to the previous release after a promotion.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "After a promotion, go back to the previous release (or to --to).",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    @Option(help: "The version to go back to (default: the release before the candidate).")
    var to: String?

    func run() async throws {
        try await ControllerCall.send(
            .rollback(to: to),
            app: options.app,
            options: options.controller,
            json: options.json
        )
    }
}
