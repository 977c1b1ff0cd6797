import ArgumentParser
import Foundation
import SlipwayServer
import SlipwayStore

/// `slipway history APP [--json]`: the app's events, oldest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List an app's events: starts, health changes, exits, replacements, backoffs."
    )

    @Argument(help: "The app.")
    var app: String

    @OptionGroup var state: StateOptions

    @Option(help: "Show at most this many of the newest events.")
    var limit = 200

    @Flag(help: "List the app's rollouts (who, when, why, how they ended) instead of its events.")
    var rollouts = false

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        let log = try state.openLog()
        let events: [RecordedEvent]
        do {
            events = try log.latestEvents(app: app, limit: limit)
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
        if rollouts {
            let all: [RecordedEvent]
            do {
                all = try log.events(app: app, limit: .max)
            } catch {
                FileHandle.standardErrorWrite("error: \(error)")
                throw ExitCode(ExitStatus.badInput)
            }
            let records = RolloutRecord.fold(all)
            if json {
                print(try JSONOutput.encode(records))
            } else if records.isEmpty {
                print("\(app) has had no rollout")
            } else {
                for record in records { print(Self.line(record)) }
            }
            return
        }
        if events.isEmpty {
            FileHandle.standardErrorWrite("error: no events for app \"\(app)\" in \(log.path)")
            throw ExitCode(ExitStatus.badInput)
        }
        if json {
            print(try JSONOutput.encode(events))
        } else {
            for event in events { print(EventFormatter.line(event)) }
        }
    }

    /// `#2  2026-11-21 22:08:03  1.0.0 → 2.0.0  canary  by ada: "new checkout"  promoted after 12.5s`.
    static func line(_ record: RolloutRecord) -> String {
        var text =
            "#\(record.number)  \(EventFormatter.timestamp(record.startedAt))  \(record.from) → \(record.to)  "
            + "\(record.strategy)  by \(record.by.isEmpty ? "?" : record.by)"
        if let reason = record.reason { text += ": \"\(reason)\"" }
        if let outcome = record.outcome, let ended = record.endedAt {
            text += "  \(outcome) after \(String(format: "%.1f", ended.timeIntervalSince(record.startedAt)))s"
            if outcome != "promoted", let why = record.endReason { text += " (\(why))" }
        } else {
            text += "  running"
        }
        return text
    }
}
