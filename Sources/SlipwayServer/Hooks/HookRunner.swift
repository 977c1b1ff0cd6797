import AsyncHTTPClient
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayPlatform

/// Runs the hooks of one point for a rollout, in order, stopping at the first failure, and records each one's
/// start and end (with its output, capped) in the event log.
struct HookRunner: Sendable {
    /// How much of a hook's output its `hookFinished` event keeps (the end of it).
    static let outputLimit = 8_192

    let baseDirectory: String
    let gates: WebhookGateClient
    let recorder: EventRecorder
    /// The controller's environment, where `{env: NAME}` secrets are read.
    let environment: [String: String]

    /// Runs `hooks`; nil when every one succeeded, else why the first failure failed (`snapshot exited with
    /// status 3`).
    func run(_ hooks: [HookSpec], facts: HookFacts) async -> String? {
        for hook in hooks {
            if Task.isCancelled { return "\(hook.name) was not run: the rollout no longer waits for it" }
            if let failure = await run(hook, facts: facts) { return failure }
        }
        return nil
    }

    private func run(_ hook: HookSpec, facts: HookFacts) async -> String? {
        var fields: [String: JSONValue] = [
            "rollout": .int(facts.rollout),
            "point": .string(facts.point.rawValue),
            "hook": .string(hook.name),
        ]
        switch hook.action {
        case .command(let command):
            fields["kind"] = "command"
            fields["timeoutMs"] = .int(Int(command.timeout.milliseconds))
            record(.hookStarted, facts, fields)
            var variables = command.env
            for (key, value) in facts.environment(hook: hook.name) { variables[key] = value }
            let result = await HookProcess.run(
                argv: command.argv,
                environment: variables,
                workingDirectory: command.workingDirectory,
                baseDirectory: baseDirectory,
                timeout: command.timeout,
                outputLimit: Self.outputLimit
            )
            let summary = result.summary(timeout: command.timeout)
            fields["result"] = .string(
                result.succeeded ? "succeeded" : result.ending == .timedOut ? "timedOut" : "failed"
            )
            fields["summary"] = .string(summary)
            fields["durationMs"] = .int(Int(result.duration.milliseconds))
            fields["output"] = .string(result.output)
            fields["outputBytes"] = .int(result.outputBytes)
            fields["outputTruncated"] = .bool(result.outputBytes > Self.outputLimit)
            if case .exited(let code) = result.ending { fields["exitStatus"] = .int(Int(code)) }
            record(.hookFinished, facts, fields)
            return result.succeeded ? nil : "\(hook.name) \(summary)"
        case .gate(let gate):
            fields["kind"] = "webhook"
            fields["deadlineMs"] = .int(Int(gate.deadline.milliseconds))
            record(.hookStarted, facts, fields)
            let url: String
            do {
                url = try SecretResolver.url(gate.url, environment: environment)
            } catch {
                fields["result"] = "failed"
                fields["summary"] = .string("could not be asked: \(error)")
                fields["attempts"] = 0
                record(.hookFinished, facts, fields)
                return "\(hook.name) could not be asked: \(error)"
            }
            let started = fields
            let result = await gates.ask(
                gate,
                url: url,
                body: { facts.body(hook: hook.name, attempt: $0) },
                waiting: { problem in
                    var waiting = started
                    waiting["problem"] = .string(problem)
                    waiting["intervalMs"] = .int(Int(gate.interval.milliseconds))
                    record(.gateWaiting, facts, waiting)
                }
            )
            let summary =
                result.opened
                ? "opened after \(result.attempts) question\(result.attempts == 1 ? "" : "s")"
                : "stayed closed for \(DurationText.format(gate.deadline)) (\(result.attempts) questions; last: "
                    + "\(result.lastProblem ?? "no answer"))"
            fields["result"] = .string(result.opened ? "succeeded" : "failed")
            fields["summary"] = .string(summary)
            fields["attempts"] = .int(result.attempts)
            fields["durationMs"] = .int(Int(result.duration.milliseconds))
            if let status = result.lastStatus { fields["status"] = .int(status) }
            record(.hookFinished, facts, fields)
            return result.opened ? nil : "\(hook.name) \(summary)"
        }
    }

    private func record(_ kind: EventKind, _ facts: HookFacts, _ fields: [String: JSONValue]) {
        recorder.record(Event(app: facts.app, kind: kind, fields: fields))
    }
}
