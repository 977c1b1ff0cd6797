import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayServer
import SlipwayStore

#if canImport(Glibc)
import Glibc
#endif

/// `slipway status [APP] [--json]`: what runs now, folded from the event log.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each app's instances, their health and the last event."
    )

    @Argument(help: "Only this app.")
    var app: String?

    @OptionGroup var state: StateOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Follow the controller's event stream and redraw the app's view on every change (needs APP).")
    var watch = false

    @Option(
        help: ArgumentHelp(
            "With --watch: the controller's API (default: $SLIPWAY_URL, then the config's controller.api).",
            valueName: "url"
        )
    )
    var url: String?

    @Option(
        help: ArgumentHelp(
            "With --watch: the API token (default: $SLIPWAY_TOKEN, then the config's controller.token).",
            valueName: "token"
        )
    )
    var token: String?

    func validate() throws {
        if watch, app == nil { throw ValidationError("--watch needs an app: slipway status APP --watch") }
        if url != nil || token != nil, !watch { throw ValidationError("--url and --token are only used with --watch") }
    }

    func run() async throws {
        if watch, let app {
            var arguments = ["-f", state.config.file]
            if let url { arguments += ["--url", url] }
            if let token { arguments += ["--token", token] }
            let options = try ControllerOptions.parse(arguments)
            try await StatusWatch.run(app: app, endpoint: try options.endpoint(), json: json)
            return
        }
        let log = try state.openLog()
        let names: [String]
        do {
            names = try app.map { [$0] } ?? log.apps()
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
        var statuses: [AppStatus] = []
        for name in names {
            let events = try readEvents(log, app: name)
            if app != nil, events.isEmpty {
                FileHandle.standardErrorWrite("error: no app named \"\(name)\" in \(log.path)")
                throw ExitCode(ExitStatus.badInput)
            }
            statuses.append(AppStatus.fold(app: name, events: events))
        }
        if json {
            print(try JSONOutput.encode(statuses))
            return
        }
        if statuses.isEmpty { print("no apps have run yet") }
        for status in statuses { print(Self.render(status)) }
    }

    private func readEvents(_ log: EventLog, app: String) throws -> [RecordedEvent] {
        do {
            return try log.events(app: app, limit: .max)
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
    }

    static func render(_ status: AppStatus, now: Date = Date()) -> String {
        var lines: [String] = []
        let desired = status.desiredInstances.map(String.init) ?? "?"
        lines.append(
            "\(status.app)  \(status.supervision.rawValue)  version \(status.version ?? "-")  "
                + "\(status.healthyCount)/\(desired) healthy"
        )
        /// `pid 4230, Slipway 0.7.0, up 2h14m, a controller attached`.
        func describe(_ dataPlane: AppStatus.DataPlane) -> String {
            let uptime = DurationText.format(.seconds(Int64(max(0, now.timeIntervalSince(dataPlane.since)))))
            let driven = dataPlane.attached ? "a controller attached" : "no controller attached"
            return "pid \(dataPlane.pid), Slipway \(dataPlane.build), up \(uptime), \(driven)"
        }
        if let dataPlane = status.dataPlane {
            let alive = kill(Int32(dataPlane.pid), 0) == 0
            lines.append(
                alive
                    ? "  data plane: \(describe(dataPlane))"
                    : "  data plane: pid \(dataPlane.pid) is not running"
            )
        }
        for (host, dataPlane) in status.hostDataPlanes.sorted(by: { $0.key < $1.key }) {
            lines.append("  data plane on \(host): \(describe(dataPlane))")
        }
        for instance in status.instances {
            let address = instance.address ?? instance.port.map { "127.0.0.1:\($0)" } ?? "-"
            let pid = instance.pid.map { "pid \($0)" } ?? "pid -"
            let supervisor = instance.supervisorPid.map { "  supervisor \($0)" } ?? ""
            lines.append(
                "  \(instance.id.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))"
                    + "\(instance.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))"
                    + "\(instance.version.padding(toLength: 10, withPad: " ", startingAt: 0))"
                    + "\(pid.padding(toLength: 11, withPad: " ", startingAt: 0))"
                    + "\(address.padding(toLength: 17, withPad: " ", startingAt: 0))"
                    + "since \(EventFormatter.timestamp(instance.since))\(supervisor)"
                    + (instance.ejected ? "  ejected by the proxy" : "")
            )
        }
        if let backoff = status.backoff {
            lines.append("  crash loop: \(backoff.failures) failures in a row, replacements wait \(backoff.delay)")
        }
        if !status.weights.isEmpty {
            let weights = status.weights.sorted { $0.key < $1.key }.map { version, percent in
                "\(version) \(percent == percent.rounded() ? String(Int(percent)) : String(percent))%"
            }
            lines.append("  traffic: \(weights.joined(separator: ", "))")
        }
        if let rollout = status.rollout {
            let step =
                rollout.endedAt == nil
                ? ", step \(min(rollout.step + 1, rollout.steps))/\(rollout.steps): \(rollout.stepDescription)" : ""
            lines.append(
                "  rollout #\(rollout.number) \(rollout.from) → \(rollout.to) (\(rollout.strategy)): \(rollout.state)\(step)"
            )
            if let decision = rollout.lastDecision { lines.append("  last decision: \(decision)") }
        }
        if let last = status.lastEvent {
            lines.append("  last: \(EventFormatter.line(last))")
        }
        return lines.joined(separator: "\n")
    }
}

/// JSON for `--json` output: sorted keys, ISO 8601 times.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var container = encoder.singleValueContainer()
            try container.encode(formatter.string(from: date))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
