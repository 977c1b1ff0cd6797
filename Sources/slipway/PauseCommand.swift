import ArgumentParser
import SlipwayEngine

/// `slipway pause APP`: hold the rollout at its current step.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Hold the rollout at its current step until resume.",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    func run() async throws {
        try await ControllerCall.send(.pause, app: options.app, options: options.controller, json: options.json)
    }
}
