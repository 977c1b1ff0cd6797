import ArgumentParser
import SlipwayEngine

/// `slipway pause APP`: hold the rollout at its current step.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Hold the rollout at its current step until resume.",
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
        try await ControllerCall.send(.pause, app: app, options: controller, json: json)
    }
}
