import Foundation
import Logging
import SlipwayCore
import SlipwayStore

#if canImport(Glibc)
import Glibc
#endif

/// What `POST /api/v1/apps/{app}/chaos/kill` asks for: crash or freeze one instance.
public struct KillRequest: Sendable, Equatable {
    /// What happens to the instance.
    public enum Action: Sendable, Equatable {
        /// The signal is sent once (`SIGKILL` by default): a crash, which the supervisor records and the app's
        /// replacement policy handles.
        case kill(signal: Int32)
        /// `SIGSTOP`, then `SIGCONT` after the duration: a freeze, connections open and nothing answered.
        case hang(Duration)
    }

    /// The signals a kill may send, by name.
    public static let signals: [String: Int32] = [
        "SIGKILL": SIGKILL, "SIGTERM": SIGTERM, "SIGINT": SIGINT, "SIGQUIT": SIGQUIT, "SIGHUP": SIGHUP,
        "SIGABRT": SIGABRT,
    ]
    /// The longest hang.
    public static let maximumHang = Duration.seconds(600)

    /// The instance; nil picks one of the stable release's healthy instances at random.
    public var instance: InstanceID?
    /// Crash or freeze.
    public var action: Action
    /// Who asks.
    public var by: String
    /// Why.
    public var reason: String?
    /// `manual`, or `monkey` for a scheduled kill.
    public var source: String

    /// Creates a request.
    public init(instance: InstanceID?, action: Action, by: String, reason: String?, source: String = "manual") {
        self.instance = instance
        self.action = action
        self.by = by
        self.reason = reason
        self.source = source
    }

    /// The fields the endpoint accepts.
    static let fields: Set<String> = ["instance", "signal", "hangMs", "by", "reason"]

    /// Reads a request body; a refusal names the field.
    init(_ body: CommandBody) throws(CommandRefusal) {
        let hang = try body.int("hangMs", in: 1...Int(Self.maximumHang.milliseconds))
        let signalName = try body.string("signal")
        if hang != nil, signalName != nil {
            throw CommandRefusal(.badRequest, "\"signal\": a hang sends SIGSTOP and SIGCONT; give signal or hangMs")
        }
        if let hang {
            action = .hang(.milliseconds(hang))
        } else {
            let name = signalName ?? "SIGKILL"
            guard let signal = Self.signals[name] else {
                throw CommandRefusal(
                    .badRequest,
                    "\"signal\": \"\(name)\" is not one of \(Self.signals.keys.sorted().joined(separator: ", "))"
                )
            }
            action = .kill(signal: signal)
        }
        instance = try body.string("instance").map(InstanceID.init)
        by = try body.by
        reason = try body.string("reason")
        source = "manual"
    }
}

/// A crash or freeze chaos carried out, as the API answers it.
public struct ChaosKill: Sendable, Equatable, Codable {
    /// The app and the instance.
    public var app: String
    public var instance: String
    /// The instance's version.
    public var version: String
    /// `kill` or `hang`.
    public var action: String
    /// The signal sent (`SIGSTOP` for a hang).
    public var signal: String
    /// A hang's length.
    public var hangMs: Int?
    /// Who asked, and why.
    public var by: String
    public var reason: String?
    /// When the signal was sent.
    public var at: Date
    /// `manual`, or `monkey`.
    public var source: String?
    /// Set for a leashed monkey's kill: recorded, not carried out.
    public var leashed: Bool?
}

extension ChaosKill {
    /// The kill a `chaosKill` event records; nil for an event without an instance.
    public init?(_ event: RecordedEvent) {
        guard event.kind == .chaosKill, let instance = event.instance else { return nil }
        let fields = event.fields
        self.init(
            app: event.app,
            instance: instance.rawValue,
            version: fields["version"]?.stringValue ?? "?",
            action: fields["action"]?.stringValue ?? "kill",
            signal: fields["signal"]?.stringValue ?? "?",
            hangMs: fields["hangMs"]?.intValue,
            by: fields["by"]?.stringValue ?? "?",
            reason: fields["reason"]?.stringValue,
            at: event.time,
            source: fields["source"]?.stringValue,
            leashed: fields["leashed"] == .bool(true) ? true : nil
        )
    }
}

/// Crashes and freezes instances for chaos: each recorded (`chaosKill`) before its signal, each freeze ended
/// (`SIGCONT`, `chaosHangEnded`) after its time, after a controller restart too, and at once when the controller
/// stops, so that no instance stays frozen.
public actor ChaosKills {
    private let apps: [String]
    private let record: @Sendable (Event) -> RecordedEvent?
    private let status: @Sendable (String) -> AppStatus?
    private let signal: @Sendable (InstanceID, Int32) async -> Bool
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    /// Frozen instances and when each is let go.
    private var hung: [InstanceID: (app: String, since: Date, until: Date)] = [:]
    private var timers: [InstanceID: Task<Void, Never>] = [:]

    /// Kills for `apps`; `status` is an app's status now, `signal` reaches an instance's processes.
    public init(
        apps: [String],
        record: @escaping @Sendable (Event) -> RecordedEvent?,
        status: @escaping @Sendable (String) -> AppStatus?,
        signal: @escaping @Sendable (InstanceID, Int32) async -> Bool,
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "slipway.chaos")
    ) {
        self.apps = apps
        self.record = record
        self.status = status
        self.signal = signal
        self.wallClock = wallClock
        self.logger = logger
    }

    /// Crashes or freezes an instance of `app`.
    public func kill(app: String, _ request: KillRequest) async throws(CommandRefusal) -> ChaosKill {
        guard apps.contains(app), let status = status(app) else {
            throw CommandRefusal(.notFound, "no app named \"\(app)\" (apps: \(apps.joined(separator: ", ")))")
        }
        let victim: AppStatus.Instance
        if let wanted = request.instance {
            guard let found = status.instances.first(where: { $0.id == wanted }) else {
                throw CommandRefusal(.notFound, "app \"\(app)\" runs no instance \"\(wanted)\"")
            }
            victim = found
        } else {
            let candidates = status.instances.filter { $0.state == .healthy && $0.version == status.version }
            guard let chosen = candidates.randomElement() else {
                throw CommandRefusal(.conflict, "app \"\(app)\" has no healthy instance of its stable release")
            }
            victim = chosen
        }
        if hung[victim.id] != nil {
            throw CommandRefusal(.conflict, "instance \(victim.id) is frozen already")
        }
        let number: Int32
        let name: String
        var hangMs: Int?
        switch request.action {
        case .kill(let signal):
            number = signal
            name = KillRequest.signals.first { $0.value == signal }?.key ?? "signal \(signal)"
        case .hang(let duration):
            number = SIGSTOP
            name = "SIGSTOP"
            hangMs = Int(duration.milliseconds)
        }
        var fields: [String: JSONValue] = [
            "action": .string(hangMs == nil ? "kill" : "hang"), "signal": .string(name),
            "version": .string(victim.version), "by": .string(request.by), "source": .string(request.source),
        ]
        if let hangMs { fields["hangMs"] = .int(hangMs) }
        if let reason = request.reason { fields["reason"] = .string(reason) }
        guard let recorded = record(Event(app: app, kind: .chaosKill, instance: victim.id, fields: fields)) else {
            throw CommandRefusal(.conflict, "the event log cannot be written; nothing was signalled")
        }
        guard await signal(victim.id, number) else {
            if hangMs != nil {
                _ = record(
                    Event(
                        app: app,
                        kind: .chaosHangEnded,
                        instance: victim.id,
                        fields: ["hungForMs": 0, "problem": "the instance no longer runs"]
                    )
                )
            }
            throw CommandRefusal(.conflict, "instance \(victim.id) no longer runs; nothing was signalled")
        }
        if let hangMs {
            freeze(
                victim.id,
                app: app,
                since: recorded.time,
                until: recorded.time.addingTimeInterval(Double(hangMs) / 1000)
            )
        }
        return ChaosKill(
            app: app,
            instance: victim.id.rawValue,
            version: victim.version,
            action: hangMs == nil ? "kill" : "hang",
            signal: name,
            hangMs: hangMs,
            by: request.by,
            reason: request.reason,
            at: recorded.time,
            source: request.source
        )
    }

    /// After a controller restart: every freeze the log shows unended is ended on time (at once when its time
    /// has passed).
    public func recover(from log: EventLog) {
        guard let events = try? log.events(kinds: [.chaosKill, .chaosHangEnded]) else { return }
        var open: [InstanceID: (app: String, since: Date, until: Date)] = [:]
        for event in events {
            guard let instance = event.instance else { continue }
            if event.kind == .chaosHangEnded {
                open[instance] = nil
            } else if event.fields["action"] == "hang", event.fields["leashed"] != .bool(true),
                let hangMs = event.fields["hangMs"]?.intValue
            {
                open[instance] = (event.app, event.time, event.time.addingTimeInterval(Double(hangMs) / 1000))
            }
        }
        for (instance, hang) in open { freeze(instance, app: hang.app, since: hang.since, until: hang.until) }
    }

    /// Lets every frozen instance go now (the controller is stopping).
    public func thawAll() async {
        for instance in hung.keys.sorted() { await thaw(instance) }
    }

    private func freeze(_ instance: InstanceID, app: String, since: Date, until: Date) {
        hung[instance] = (app, since, until)
        timers[instance]?.cancel()
        let delay = max(0, until.timeIntervalSince(wallClock()))
        timers[instance] = Task {
            // Rounded up: a freeze never ends before its time.
            try? await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
            guard !Task.isCancelled else { return }
            await self.thaw(instance)
        }
    }

    private func thaw(_ instance: InstanceID) async {
        guard let hang = hung.removeValue(forKey: instance) else { return }
        timers.removeValue(forKey: instance)?.cancel()
        let resumed = await signal(instance, SIGCONT)
        var fields: [String: JSONValue] = [
            "hungForMs": .int(Int((wallClock().timeIntervalSince(hang.since) * 1000).rounded()))
        ]
        if !resumed { fields["problem"] = "the instance no longer runs" }
        _ = record(Event(app: hang.app, kind: .chaosHangEnded, instance: instance, fields: fields))
    }
}
