import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayStore

/// `slipway history APP [--json]`: the app's events, oldest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List an app's events: starts, health changes, exits, replacements, backoffs.",
        discussion: """
            In a configuration with environments, `slipway history APP` (the name written in `apps`) shows the \
            path of every version through the environments; `APP@ENV` shows that copy's events.
            """
    )

    @Argument(help: "The app.")
    var app: String

    @OptionGroup var target: EnvironmentOption

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
        let app = target.qualified(self.app)
        let log = try state.openLog()
        if !app.contains("@"), try printPath(of: app, log: log) { return }
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

    /// Prints the path of every version of `app` through its environments; false when the log knows no copy of
    /// `app` in an environment.
    private func printPath(of app: String, log: EventLog) throws -> Bool {
        let copies: [String]
        do {
            copies = try log.apps().filter { $0.hasPrefix(app + "@") }
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
        guard !copies.isEmpty else { return false }
        let found = copies.map { String($0.dropFirst(app.count + 1)) }
        // The configuration's order when it can be read, else the order the log first saw them in.
        let configured = (try? ConfigLoader.load(file: state.config.file).environments.map(\.name)) ?? []
        let environments = configured.filter(found.contains) + found.filter { !configured.contains($0) }
        var records: [String: [RolloutRecord]] = [:]
        do {
            for environment in environments {
                records[environment] = RolloutRecord.fold(try log.events(app: "\(app)@\(environment)", limit: .max))
            }
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
        let paths = ReleasePath.build(environments: environments, records: records)
        if json {
            print(try JSONOutput.encode(paths))
        } else if paths.isEmpty {
            print("\(app) has had no rollout in \(environments.joined(separator: ", "))")
        } else {
            print("\(app): versions through \(environments.joined(separator: " → ")), newest first")
            for path in paths { print(Self.line(path, environments: environments)) }
        }
        return true
    }

    /// `2.0.0  staging: promoted 2026-11-21 10:02:11 (#3 by ada)  →  prod: running since … (#2 by ada)`.
    static func line(_ path: ReleasePath, environments: [String]) -> String {
        let stages = environments.map { environment in
            guard let stage = path.stages.first(where: { $0.environment == environment }) else {
                return "\(environment): -"
            }
            let when = EventFormatter.timestamp(stage.endedAt ?? stage.startedAt)
            let outcome = stage.outcome == "running" ? "running since \(when)" : "\(stage.outcome) \(when)"
            return "\(environment): \(outcome) (#\(stage.rollout) by \(stage.by.isEmpty ? "?" : stage.by))"
        }
        return "\(path.version)  " + stages.joined(separator: "  →  ")
    }

    /// `#2  2026-11-21 22:08:03  1.0.0 → 2.0.0  canary  by ada: "new checkout"  [commit 3f2c9e1, build 42]
    /// promoted after 12.5s`.
    static func line(_ record: RolloutRecord) -> String {
        var text =
            "#\(record.number)  \(EventFormatter.timestamp(record.startedAt))  \(record.from) → \(record.to)  "
            + "\(record.strategy)  by \(record.by.isEmpty ? "?" : record.by)"
        if let reason = record.reason { text += ": \"\(reason)\"" }
        if let release = record.release {
            // The short facts; the links are in `--json` and the API.
            let facts = [
                release.commit.map { "commit \($0.prefix(12))" }, release.build.map { "build \($0)" },
                release.author.map { "author \($0)" },
            ].compactMap { $0 }
            if !facts.isEmpty { text += "  [\(facts.joined(separator: ", "))]" }
        }
        if let outcome = record.outcome, let ended = record.endedAt {
            text += "  \(outcome) after \(String(format: "%.1f", ended.timeIntervalSince(record.startedAt)))s"
            if outcome != "promoted", let why = record.endReason { text += " (\(why))" }
        } else {
            text += "  running"
        }
        return text
    }
}
