import ArgumentParser
import SlipwayEngine

/// `slipway retry APP`: start an aborted or rolled-back rollout again.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Start an aborted or rolled-back rollout again, with the same candidate.",
        discussion: """
            Exit codes: 0 done (or already so), 1 refused because of the rollout's state, 2 bad usage or no such \
            app or rollout, 4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func run() async throws {
        try await ControllerCall.send(.retry, app: app, options: controller, json: json)
    }
}
