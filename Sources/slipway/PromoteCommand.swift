import ArgumentParser
import SlipwayEngine

/// `slipway promote APP`: end the current step now (or, with `--full`, every remaining step).
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "End the rollout's current step now; with --full, skip to promotion.",
        discussion: """
            Exit codes: 0 done (or already so), 1 refused because of the rollout's state, 2 bad usage or no such \
            app or rollout, 4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @Flag(help: "Skip every remaining step and promote.")
    var full = false

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func run() async throws {
        try await ControllerCall.send(.promote(full: full), app: app, options: controller, json: json)
    }
}
