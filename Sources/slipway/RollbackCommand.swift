import ArgumentParser
import SlipwayEngine

/// `slipway rollback APP`: go back to the previous release after a promotion.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "After a promotion, go back to the previous release (or to --to).",
        discussion: """
            Exit codes: 0 done (or already so), 1 refused because of the rollout's state, 2 bad usage or no such \
            app or rollout, 4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @Option(help: "The version to go back to (default: the release before the candidate).")
    var to: String?

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func run() async throws {
        try await ControllerCall.send(.rollback(to: to), app: app, options: controller, json: json)
    }
}
