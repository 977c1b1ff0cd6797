import ArgumentParser
import Foundation
import NIOHTTP1
import SlipwayConfig
import SlipwayCore
import SlipwayProxy
import SlipwayServer

/// `slipway chaos …`: faults in the apps' proxies, and the stop that removes them all.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract:
            "Inject faults into an app's proxy, crash or freeze instances, see the monkeys, stop all chaos at once.",
        discussion: """
            Every fault is recorded in the event log before it applies, expires by itself (--for, default 5m) and \
            is counted apart from the app's own responses. `slipway chaos stop` removes every fault of every app \
            and refuses new ones until `slipway chaos release`.

            Exit codes: 0 done, 1 refused (chaos is stopped, too many faults), 2 bad usage or no such app or \
            fault, 4 controller unreachable or unauthorized.
            """,
        subcommands: [
            ChaosStatusCommand.self, ChaosFaultCommand.self, ChaosKillCommand.self, ChaosCutCommand.self,
            ChaosRunCommand.self, ChaosStopCommand.self, ChaosReleaseCommand.self,
        ]
    )
}

/// `slipway chaos status`: the faults in force, and whether chaos is stopped.
struct ChaosStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Show the faults and host cuts in force, the apps' monkeys, the latest kills, and whether chaos is stopped."
    )

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let status = try await client.get("/api/v1/chaos", as: ChaosStatus.self)
            if json {
                try ControllerCall.printJSON(status)
            } else {
                ControllerCall.printLine(ChaosText.describe(status))
            }
            return ExitStatus.success
        }
    }
}

/// `slipway chaos fault add|remove`.
struct ChaosFaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract: "Add a fault to an app's proxy, or remove one.",
        subcommands: [ChaosFaultAddCommand.self, ChaosFaultRemoveCommand.self]
    )
}

/// `slipway chaos fault add APP --abort 503 --percent 10 …`.
struct ChaosFaultAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a fault to an app's proxy.",
        discussion: """
            Give exactly one of --abort, --delay, --reset, --bandwidth. Examples:
              slipway chaos fault add shop --abort 503 --percent 10 --for 10m
              slipway chaos fault add shop --delay 200ms --jitter 50ms --path /api/ --version 2.4.0
              slipway chaos fault add shop --bandwidth 64KiB --header 'X-Beta: 1'
            """
    )

    @Argument(help: "The app (APP@ENV, or APP with --environment, in a configuration with environments).")
    var name: String

    @OptionGroup var target: EnvironmentOption

    @Option(
        help: ArgumentHelp("Answer with this status (400...599); the request reaches no instance.", valueName: "status")
    )
    var abort: Int?

    @Option(help: ArgumentHelp("Hold each request this long before sending it on, like 200ms.", valueName: "duration"))
    var delay: String?

    @Option(help: ArgumentHelp("With --delay: add up to this much more, drawn per request.", valueName: "duration"))
    var jitter: String?

    @Flag(help: "Reset the client's connection (TCP RST); the request reaches no instance.")
    var reset = false

    @Option(help: ArgumentHelp("Send response bodies at this many bytes per second, like 64KiB.", valueName: "size"))
    var bandwidth: String?

    @Option(
        help: ArgumentHelp("The share of matching requests, drawn per request (default 100).", valueName: "percent")
    )
    var percent: Double?

    @Option(help: ArgumentHelp("Only requests whose path starts with this.", valueName: "prefix"))
    var path: String?

    @Option(help: ArgumentHelp("Only requests with this method.", valueName: "method"))
    var method: String?

    @Option(help: ArgumentHelp("Only requests carrying this header value, written 'Name: value'.", valueName: "header"))
    var header: String?

    @Option(help: ArgumentHelp("Only requests routed to this version.", valueName: "version"))
    var version: String?

    @Option(
        name: .customLong("for"),
        help: ArgumentHelp("How long it applies (default 5m, at most 24h).", valueName: "duration")
    )
    var duration: String?

    @Option(help: ArgumentHelp("Affect at most this many requests.", valueName: "count"))
    var maxRequests: Int?

    @Option(help: "Why, as the event log records it.")
    var reason: String?

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the fault as JSON.")
    var json = false

    func validate() throws {
        let kinds = [abort != nil, delay != nil, reset, bandwidth != nil].filter { $0 }.count
        guard kinds == 1 else {
            throw ValidationError("give exactly one of --abort, --delay, --reset, --bandwidth (got \(kinds))")
        }
        if jitter != nil, delay == nil { throw ValidationError("--jitter: only with --delay") }
        _ = try body()
    }

    /// The API request body, or a usage error naming the option.
    func body() throws -> FaultRequestBody {
        var body = FaultRequestBody(by: controller.user)
        if let abort {
            body.kind = "abort"
            body.status = abort
        } else if let delay {
            body.kind = "delay"
            body.delayMs = try Self.milliseconds(delay, option: "--delay")
            body.jitterMs = try jitter.map { try Self.milliseconds($0, option: "--jitter", allowZero: true) }
        } else if reset {
            body.kind = "reset"
        } else if let bandwidth {
            body.kind = "bandwidth"
            guard let bytes = ByteSize.parse(bandwidth), bytes > 0 else {
                throw ValidationError("--bandwidth: expected a size per second like 64KiB or 1MB, got \"\(bandwidth)\"")
            }
            body.bytesPerSecond = bytes
        }
        body.percent = percent
        body.path = path
        body.method = method?.uppercased()
        if let header {
            guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                throw ValidationError("--header: expected 'Name: value', got \"\(header)\"")
            }
            body.header = [
                "name": String(header[..<colon]).trimmingCharacters(in: .whitespaces),
                "value": String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces),
            ]
        }
        body.version = version
        body.durationMs = try duration.map { try Self.milliseconds($0, option: "--for") }
        body.maxRequests = maxRequests
        body.reason = reason
        return body
    }

    private static func milliseconds(_ text: String, option: String, allowZero: Bool = false) throws -> Int {
        guard let duration = DurationText.parse(text), allowZero || duration > .zero else {
            throw ValidationError("\(option): expected a duration like 200ms, 30s or 5m, got \"\(text)\"")
        }
        return Int(duration.milliseconds)
    }

    func run() async throws {
        let body = try body()
        let app = target.qualified(name)
        try await ControllerCall.exchange(
            controller,
            .POST,
            ControllerClient.path(app: app, "faults"),
            body: body,
            as: ChaosFault.self,
            json: json
        ) { fault in
            "added \(fault.id) to \(fault.app): \(fault.summary), until \(ChaosText.time(fault.expiresAt))"
        }
    }
}

/// `slipway chaos fault remove APP ID`.
struct ChaosFaultRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a fault now.")

    @Argument(help: "The app.")
    var name: String

    @Argument(help: "The fault's id, as `slipway chaos status` shows it (f1, f2, …).")
    var id: String

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the removed fault as JSON.")
    var json = false

    func run() async throws {
        let app = target.qualified(name)
        let segment = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id
        try await ControllerCall.exchange(
            controller,
            .DELETE,
            ControllerClient.path(app: app, "faults/\(segment)"),
            body: ["by": controller.user],
            as: ChaosFault.self,
            json: json
        ) { fault in
            "removed \(fault.id) from \(fault.app) after \(fault.affected) requests"
        }
    }
}

/// `slipway chaos kill APP [--instance ID] [--hang D | --signal SIG]`.
struct ChaosKillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill",
        abstract: "Crash (SIGKILL by default) or freeze (--hang) one instance of an app, now.",
        discussion: """
            Without --instance, one of the stable release's healthy instances is chosen at random. A hang sends \
            SIGSTOP and, after its time, SIGCONT; the controller lets a frozen instance go when it stops, and a \
            restarted controller ends a freeze on time.
            """
    )

    @Argument(help: "The app (APP@ENV, or APP with --environment, in a configuration with environments).")
    var name: String

    @OptionGroup var target: EnvironmentOption

    @Option(help: ArgumentHelp("The instance, like shop-3 (default: one at random).", valueName: "id"))
    var instance: String?

    @Option(help: ArgumentHelp("Freeze it this long (SIGSTOP, then SIGCONT), like 5s.", valueName: "duration"))
    var hang: String?

    @Option(
        help: ArgumentHelp(
            "The signal of a crash: SIGKILL (default), SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGABRT.",
            valueName: "signal"
        )
    )
    var signal: String?

    @Option(help: "Why, as the event log records it.")
    var reason: String?

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print what was done as JSON.")
    var json = false

    func validate() throws {
        if hang != nil, signal != nil { throw ValidationError("--hang and --signal: give one of them") }
        if let hang, DurationText.parse(hang).map({ $0 <= .zero }) ?? true {
            throw ValidationError("--hang: expected a duration like 5s, got \"\(hang)\"")
        }
    }

    func run() async throws {
        var body = KillRequestBody(by: controller.user)
        body.instance = instance
        body.hangMs = hang.flatMap(DurationText.parse).map { Int($0.milliseconds) }
        body.signal = signal.map { $0.uppercased().hasPrefix("SIG") ? $0.uppercased() : "SIG" + $0.uppercased() }
        body.reason = reason
        let app = target.qualified(name)
        try await ControllerCall.exchange(
            controller,
            .POST,
            ControllerClient.path(app: app, "chaos/kill"),
            body: body,
            as: ChaosKill.self,
            json: json
        ) { kill in
            kill.hangMs.map { "froze \(kill.instance) (\(kill.version)) of \(kill.app) for \($0) ms" }
                ?? "sent \(kill.signal) to \(kill.instance) (\(kill.version)) of \(kill.app)"
        }
    }
}

/// The body of `POST /api/v1/apps/APP/chaos/kill`.
struct KillRequestBody: Encodable, Equatable {
    var instance: String?
    var signal: String?
    var hangMs: Int?
    var by: String
    var reason: String?
}

/// `slipway chaos stop`.
struct ChaosStopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract:
            "Remove every fault of every app and let every cut host go now; refuse new faults until `slipway chaos release`."
    )

    @Option(help: "Why, as the event log records it.")
    var reason: String?

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        var body = ["by": controller.user]
        if let reason { body["reason"] = reason }
        try await ControllerCall.exchange(
            controller,
            .POST,
            "/api/v1/chaos/stop",
            body: body,
            as: ChaosStatus.self,
            json: json
        ) { _ in
            "chaos stopped: no fault in force; new ones are refused until `slipway chaos release`"
        }
    }
}

/// `slipway chaos release`.
struct ChaosReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Allow faults again after `slipway chaos stop`."
    )

    @OptionGroup var controller: ControllerOptions

    func run() async throws {
        try await ControllerCall.exchange(
            controller,
            .POST,
            "/api/v1/chaos/release",
            body: ["by": controller.user],
            as: ChaosStatus.self,
            json: false
        ) { _ in
            "chaos released: faults may be added again"
        }
    }
}

/// The body of `POST /api/v1/apps/APP/faults`.
struct FaultRequestBody: Encodable, Equatable {
    var kind = ""
    var status: Int?
    var delayMs: Int?
    var jitterMs: Int?
    var bytesPerSecond: Int?
    var percent: Double?
    var path: String?
    var method: String?
    var header: [String: String]?
    var version: String?
    var durationMs: Int?
    var maxRequests: Int?
    var by: String
    var reason: String?
}

/// The chaos status for people.
enum ChaosText {
    static func describe(_ status: ChaosStatus) -> String {
        var lines: [String] = []
        if let stop = status.stopped {
            lines.append(
                "chaos is STOPPED since \(time(stop.at)) by \(stop.by)\(stop.reason.map { ": \($0)" } ?? "")"
                    + " (`slipway chaos release` allows faults and monkeys again)"
            )
        }
        if status.faults.isEmpty {
            lines.append("no fault in force")
        } else {
            lines.append("ID    APP           AFFECTED  UNTIL      FAULT")
            for fault in status.faults {
                lines.append(
                    fault.id.padding(toLength: 6, withPad: " ", startingAt: 0)
                        + fault.app.padding(toLength: 14, withPad: " ", startingAt: 0)
                        + String(fault.affected).padding(toLength: 10, withPad: " ", startingAt: 0)
                        + time(fault.expiresAt).padding(toLength: 11, withPad: " ", startingAt: 0)
                        + fault.summary
                )
            }
        }
        for cut in status.cuts {
            var line = "host \(cut.host) cut off until \(time(cut.until)) by \(cut.by)"
            line += " (\(cut.apps.joined(separator: ", ")))"
            if let reason = cut.reason { line += ": \(reason)" }
            lines.append(line)
        }
        for experiment in status.experiments {
            lines.append(
                "experiment \"\(experiment.title)\" running since \(time(experiment.startedAt)) by \(experiment.by)"
                    + " (\(experiment.apps.joined(separator: ", ")))"
            )
        }
        for monkey in status.monkeys {
            var line = "monkey of \(monkey.app): "
            if !monkey.enabled {
                line += "off"
            } else {
                line +=
                    "\(monkey.action), one per \(number(monkey.meanTimeBetweenKillsInWorkDays)) work days on average"
                line += " (at least \(number(monkey.minTimeBetweenKillsInWorkDays)) apart), \(monkey.schedule)"
                if monkey.leashed { line += ", leashed (records, never kills)" }
                if let planned = monkey.plannedKill {
                    line += "; next kill due \(dateTime(planned))"
                } else if let next = monkey.nextPossible {
                    line += "; next possible \(dateTime(next))"
                }
            }
            if let last = monkey.lastKill { line += "; last kill \(dateTime(last))" }
            lines.append(line)
        }
        if !status.kills.isEmpty {
            lines.append("latest kills:")
            for kill in status.kills {
                var line = "  \(dateTime(kill.at))  \(kill.app)  \(kill.instance) (\(kill.version))  "
                line += kill.hangMs.map { "froze \($0) ms" } ?? kill.signal
                line += "  by \(kill.by)"
                if kill.leashed == true { line += " (leashed: not carried out)" }
                if let reason = kill.reason { line += ": \(reason)" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// `2026-12-07 14:03Z`.
    static func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm'Z'"
        return formatter.string(from: date)
    }

    /// `14:03:07`, in UTC.
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss'Z'"
        return formatter.string(from: date)
    }
}
