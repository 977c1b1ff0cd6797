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
}
