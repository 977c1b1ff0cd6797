import ArgumentParser
import SlipwayEngine

/// `slipway retry APP`: start an aborted or rolled-back rollout again.
struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Start an aborted or rolled-back rollout again, with the same candidate.",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    func run() async throws {
        try await ControllerCall.send(.retry, app: options.app, options: options.controller, json: options.json)
    }
}
