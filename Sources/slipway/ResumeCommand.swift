import ArgumentParser
import SlipwayEngine

/// `slipway resume APP`: go on after `pause` or a `pause: {}` step.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Go on after pause, or after a step that waits for promote.",
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
        try await ControllerCall.send(.resume, app: app, options: controller, json: json)
    }
}
