import ArgumentParser
import Foundation
import NIOHTTP1
import SlipwayEngine
import SlipwayServer

/// Runs one exchange with the controller for a command: prints `error: …` and exits with the failure's code.
enum ControllerCall {
    /// Connects as `options` say and runs `body`, which returns the exit code.
    static func run(
        _ options: ControllerOptions,
        _ body: (ControllerClient) async throws(ControllerFailure) -> Int32
    ) async throws {
        let endpoint = try options.endpoint()
        let status: Int32
        do {
            status = try await ControllerClient.with(endpoint) { client in try await body(client) }
        } catch let failure as ControllerFailure {
            FileHandle.standardErrorWrite("error: \(failure.message)")
            throw ExitCode(failure.status)
        }
        if status != ExitStatus.success { throw ExitCode(status) }
    }

    /// Sends a user command for `app` and prints its answer: the message, or the rollout as JSON.
    static func send(_ command: UserCommand, app: String, options: ControllerOptions, json: Bool) async throws {
        let body = CommandRequestBody(command: command, by: options.user)
        try await run(options) { client throws(ControllerFailure) in
            let reply = try await client.post(app: app, body.action, body: body, as: CommandReply.self)
            if json {
                try printJSON(reply.rollout)
            } else {
                printLine(reply.message ?? reply.rollout.headline(after: command.name))
            }
            return ExitStatus.success
        }
    }

    /// Sends `body` with `method` to `path` and prints the answer: as JSON with `json`, else the line `describe`
    /// makes of it.
    static func exchange<Answer: Codable & Sendable>(
        _ options: ControllerOptions,
        _ method: HTTPMethod,
        _ path: String,
        body: some Encodable & Sendable,
        as answer: Answer.Type,
        json: Bool,
        describe: (Answer) -> String
    ) async throws {
        try await run(options) { client throws(ControllerFailure) in
            let reply = try await client.send(method, path, body: body, as: answer)
            if json {
                try printJSON(reply)
            } else {
                printLine(describe(reply))
            }
            return ExitStatus.success
        }
    }

    /// Writes a line to standard output unbuffered, so that progress shows as it happens even through a pipe.
    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Prints `value` as `--json` output.
    static func printJSON(_ value: some Encodable) throws(ControllerFailure) {
        do {
            printLine(try JSONOutput.encode(value))
        } catch {
            throw ControllerFailure(status: ExitStatus.unreachable, message: "cannot encode the answer: \(error)")
        }
    }
}

/// The body of `POST /api/v1/apps/APP/{promote,abort,pause,resume,retry,rollback,restart}`.
struct CommandRequestBody: Encodable, Equatable {
    /// The endpoint's last path segment.
    var action: String
    var by: String
    var full: Bool?
    var variant: String?
    var to: String?

    enum CodingKeys: String, CodingKey {
        case by, full, variant, to
    }

    init(action: String, by: String) {
        self.action = action
        self.by = by
    }

    init(command: UserCommand, by: String) {
        switch command {
        case .promote(let full):
            self.init(action: "promote", by: by)
            self.full = full ? true : nil
        case .choose(let variant):
            self.init(action: "promote", by: by)
            self.variant = variant
        case .abort: self.init(action: "abort", by: by)
        case .pause: self.init(action: "pause", by: by)
        case .resume: self.init(action: "resume", by: by)
        case .retry: self.init(action: "retry", by: by)
        case .rollback(let version):
            self.init(action: "rollback", by: by)
            self.to = version
        }
    }
}
