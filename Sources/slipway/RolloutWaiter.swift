import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayServer

/// `--wait [--timeout DURATION]`: follow a rollout until it ends.
struct WaitOptions: ParsableArguments {
    @Flag(help: "Follow the rollout until it ends: exit 0 when promoted, 1 otherwise.")
    var wait = false

    @Option(help: ArgumentHelp("How long --wait waits, like 90s or 1h.", valueName: "duration"))
    var timeout = "30m"

    /// The parsed `--timeout`.
    var limit: Duration { DurationText.parse(timeout) ?? .seconds(30 * 60) }

    func validate() throws {
        guard let duration = DurationText.parse(timeout), duration > .zero else {
            throw ValidationError("--timeout: expected a duration like 90s, 30m or 1h, got \"\(timeout)\"")
        }
    }

    /// After a rollout began: waits for its end when `--wait` is set, prints the result, returns the exit code.
    func finish(
        _ started: RolloutSummary,
        via client: ControllerClient,
        json: Bool
    ) async throws(ControllerFailure)
        -> Int32
    {
        guard wait else {
            if json { try ControllerCall.printJSON(started) }
            return ExitStatus.success
        }
        let waiter = RolloutWaiter(client: client, started: started, timeout: limit, reportsProgress: !json)
        let ended = try await waiter.run()
        if json { try ControllerCall.printJSON(ended) }
        return ended.state == "promoted" && ended.rollout == started.rollout
            ? ExitStatus.success : ExitStatus.rolloutFailed
    }
}

/// Polls an app's rollout until it ends, printing each change of step or state.
struct RolloutWaiter {
    /// How often the rollout is read.
    static let interval = Duration.milliseconds(250)

    let client: ControllerClient
    /// The rollout being followed, as it began.
    let started: RolloutSummary
    let timeout: Duration
    /// Whether each change is printed.
    let reportsProgress: Bool

    /// The rollout once it has ended (or the newer rollout that superseded it).
    func run() async throws(ControllerFailure) -> RolloutSummary {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var shown: (state: String, step: Int)?
        while true {
            let current = try await client.rollout(app: started.app)
            if current.rollout != started.rollout {
                report("superseded by rollout #\(current.rollout) (\(current.from) → \(current.to))")
                return current
            }
            if shown?.state != current.state || shown?.step != current.step {
                report(Self.progressLine(current))
                shown = (current.state, current.step)
            }
            if current.isFinished { return current }
            guard clock.now < deadline else {
                throw ControllerFailure(
                    status: ExitStatus.rolloutFailed,
                    message: "\(current.title) is still \(current.stateText) after \(DurationText.format(timeout)); "
                        + "it goes on without --wait (`slipway abort \(current.app)` stops it)"
                )
            }
            try? await Task.sleep(for: Self.interval)
        }
    }

    /// `step 3/9 weight 25%`, `rolling back: analysis failed`, `promoted: 2.0.0 is stable`.
    static func progressLine(_ summary: RolloutSummary) -> String {
        switch summary.state {
        case "running": return summary.stepText
        case "rollingBack": return "rolling back: \(summary.reason ?? "all traffic back to \(summary.from)")"
        default: return summary.stateText
        }
    }

    private func report(_ line: String) {
        if reportsProgress { ControllerCall.printLine(line) }
    }
}
