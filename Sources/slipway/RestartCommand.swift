import ArgumentParser
import Foundation
import SlipwayServer

/// `slipway restart APP`: replace every instance of the stable release, one at a time.
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Replace every instance of an app's stable release, one at a time, with no downtime.",
        discussion: """
            Exit codes: 0 started (with --wait: done), 1 refused because of the app's state (with --wait: \
            did not finish), 2 bad usage or unknown app, 4 controller unreachable or unauthorized.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @OptionGroup var waiting: WaitOptions

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the rollout as JSON.")
    var json = false

    func run() async throws {
        let body = CommandRequestBody(action: "restart", by: controller.user)
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let reply = try await client.post(app: app, body.action, body: body, as: CommandReply.self)
            if !json { ControllerCall.printLine(reply.message ?? reply.rollout.headline(after: "restart")) }
            return try await waiting.finish(reply.rollout, via: client, json: json)
        }
    }
}
