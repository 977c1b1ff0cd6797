import ArgumentParser
import SlipwayEngine

/// `slipway resume APP`: go on after `pause` or a `pause: {}` step.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Go on after pause, or after a step that waits for promote.",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    func run() async throws {
        try await ControllerCall.send(.resume, app: options.app, options: options.controller, json: options.json)
    }
}
