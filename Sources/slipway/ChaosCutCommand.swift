import ArgumentParser
import Foundation
import NIOHTTP1
import SlipwayCore
import SlipwayServer

/// `slipway chaos cut HOST --for D`.
struct ChaosCutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cut",
        abstract: "Cut a host off for a while, as a network partition would.",
        discussion: """
            The host's data plane and the instances there are frozen (SIGSTOP): its listener and its instances \
            keep their connections and answer nothing, to clients and to the other hosts' data planes alike. The \
            controller stops reaching the host, finds it lost and handles it as any host it cannot reach: a rollout \
            pauses, traffic elsewhere leaves its instances. After --for, or at once on `slipway chaos stop` or when \
            the controller stops, everything there is let go (SIGCONT) and the host is reconciled once the controller \
            finds it back. A restarted controller ends a cut on time.
            """
    )

    @Argument(help: "The host, as the config's hosts: list names it.")
    var host: String

    @Option(name: .customLong("for"), help: ArgumentHelp("How long, like 30s (at most 1h).", valueName: "duration"))
    var duration: String

    @Option(help: "Why, as the event log records it.")
    var reason: String?

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print what was done as JSON.")
    var json = false

    func validate() throws {
        guard let parsed = DurationText.parse(duration), parsed > .zero, parsed <= CutRequest.maximum else {
            throw ValidationError("--for: expected a duration like 30s, at most 1h, got \"\(duration)\"")
        }
    }

    func run() async throws {
        let milliseconds = Int(DurationText.parse(duration).map(\.milliseconds) ?? 0)
        let segment = host.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? host
        try await ControllerCall.exchange(
            controller,
            .POST,
            "/api/v1/hosts/\(segment)/chaos/cut",
            body: CutRequestBody(durationMs: milliseconds, by: controller.user, reason: reason),
            as: ChaosHostCut.self,
            json: json
        ) { cut in
            "cut \(cut.host) off until \(ChaosText.time(cut.until)) (\(cut.frozen ?? 0) processes frozen; "
                + "apps: \(cut.apps.joined(separator: ", ")))"
        }
    }
}

/// The body of `POST /api/v1/hosts/HOST/chaos/cut`.
struct CutRequestBody: Encodable, Equatable {
    var durationMs: Int
    var by: String
    var reason: String?
}
