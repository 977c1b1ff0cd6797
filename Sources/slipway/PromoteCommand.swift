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

    @Option(
        help: ArgumentHelp(
            "End an A/B test's experiment by keeping this variant (B, C, … or its version); the others stop.",
            valueName: "VARIANT"
        )
    )
    var variant: String?

    func validate() throws {
        if full, variant != nil { throw ValidationError("--full and --variant exclude each other") }
    }

    func run() async throws {
        try await ControllerCall.send(
            variant.map { .choose(variant: $0) } ?? .promote(full: full),
            app: options.app,
            options: options.controller,
            json: options.json
        )
    }
}
