import ArgumentParser
import SlipwayEngine

/// `slipway abort APP`: send all traffic back to stable and stop the candidate.
struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Send all traffic back to stable and stop the candidate.",
        discussion: RolloutCommandOptions.exitCodes
    )

    @OptionGroup var options: RolloutCommandOptions

    func run() async throws {
        try await ControllerCall.send(.abort, app: options.app, options: options.controller, json: options.json)
    }
}
