import ArgumentParser
import SlipwayEngine

/// `slipway promote APP`: end the current step now (or, with `--full`, every remaining step).
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "End the rollout's current step now; with --full, skip to promotion.",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    @Flag(help: "Skip every remaining step and promote.")
    var full = false

    func run() async throws {
        try await ControllerCall.send(
            .promote(full: full),
            app: options.app,
            options: options.controller,
            json: options.json
        )
    }
}
