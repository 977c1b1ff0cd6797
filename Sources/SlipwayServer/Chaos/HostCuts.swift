import Foundation
import Logging
import SlipwayCore
import SlipwayPlatform
import SlipwayStore

/// What `POST /api/v1/hosts/{host}/chaos/cut` asks for: cut a host off for a while.
public struct CutRequest: Sendable, Equatable {
    /// The longest cut.
    public static let maximum = Duration.seconds(3600)

    /// How long the host stays cut off.
    public var duration: Duration
    /// Who asks.
    public var by: String
    /// Why.
    public var reason: String?

    /// Creates a request.
    public init(duration: Duration, by: String, reason: String?) {
        self.duration = duration
        self.by = by
        self.reason = reason
    }

    /// The fields the endpoint accepts.
    static let fields: Set<String> = ["durationMs", "by", "reason"]

    /// Reads a request body; a refusal names the field.
    init(_ body: CommandBody) throws(CommandRefusal) {
        guard let milliseconds = try body.int("durationMs", in: 1...Int(Self.maximum.milliseconds)) else {
            throw CommandRefusal(.badRequest, "\"durationMs\" is required: how long the host stays cut off")
        }
        duration = .milliseconds(milliseconds)
        by = try body.by
        reason = try body.string("reason")
    }
}

/// A host cut off by chaos, as the API answers it.
public struct ChaosHostCut: Sendable, Equatable, Codable {
    /// The host.
    public var host: String
    /// The apps that run there.
    public var apps: [String]
    /// How long the cut lasts.
    public var durationMs: Int
    /// When it began, and when it ends.
    public var at: Date
    public var until: Date
    /// Who asked, and why.
    public var by: String
    public var reason: String?
    /// The processes frozen (the data plane and the instances); nil for a cut found in the log after a restart.
    public var frozen: Int?
}

/// Cuts hosts off for chaos, as a network partition would: the host's data plane and instances are frozen
/// (``HostFreeze``), so that its clients and the other hosts' data planes get no answer from it, and the controller's
/// commands stop reaching it (``HostCutOff``), so that the controller finds it lost and handles it as any host it
/// cannot reach. Each cut is recorded (`chaosHostCut`) before anything is done, and ends (`chaosHostRestored`) on
/// time, after a controller restart too, when chaos is stopped, and when the controller stops, so that no host stays
/// frozen. The controller stays cut off from the host until its processes are let go.
public actor HostCuts {
    private let placement: [String: [String]]
    private let record: @Sendable (Event) -> RecordedEvent?
    private let freeze: @Sendable (String, Bool) async -> Result<Int, HostFreezeError>
    private let cutOff: @Sendable (String, String?) async -> Void
    private let chaosStopped: @Sendable () async -> Bool
    private let wallClock: @Sendable () -> Date
    private let retryPause: Duration
    private let logger: Logger
    private var cuts: [String: Cut] = [:]
    private var stopping = false

    private struct Cut {
        var view: ChaosHostCut
        var timer: Task<Void, Never>?
        /// Its processes are being let go.
        var ending = false
    }

    /// Cuts for the hosts of `placement` (app → its hosts). `freeze` sends `SIGSTOP` (true) or `SIGCONT` to a host's
    /// processes whether or not the controller is cut off from it; `cutOff` cuts the controller off a host for a
    /// reason, or (nil) lets it reach the host again. No cut is made while `chaosStopped`. A failed `SIGCONT` is tried
    /// again every `retryPause`.
    public init(
        placement: [String: [String]],
        record: @escaping @Sendable (Event) -> RecordedEvent?,
        freeze: @escaping @Sendable (String, Bool) async -> Result<Int, HostFreezeError>,
        cutOff: @escaping @Sendable (String, String?) async -> Void,
        chaosStopped: @escaping @Sendable () async -> Bool = { false },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        retryPause: Duration = .seconds(1),
        logger: Logger = Logger(label: "slipway.chaos")
    ) {
        self.placement = placement
        self.record = record
        self.freeze = freeze
        self.cutOff = cutOff
        self.chaosStopped = chaosStopped
        self.wallClock = wallClock
        self.retryPause = retryPause
        self.logger = logger
    }

    /// Every host an app runs on, in order.
    private var hosts: [String] { Set(placement.values.flatMap { $0 }).sorted() }

    /// The apps on `host`, in order.
    private func apps(on host: String) -> [String] {
        placement.filter { $0.value.contains(host) }.keys.sorted()
    }

    /// The cuts in force, by host.
    public func views() -> [ChaosHostCut] {
        cuts.keys.sorted().compactMap { cuts[$0]?.view }
    }

    /// Cuts `host` off for the request's duration.
    public func cut(host: String, _ request: CutRequest) async throws(CommandRefusal) -> ChaosHostCut {
        guard hosts.contains(host) else {
            let known = hosts.isEmpty ? "no app runs on hosts" : "hosts: \(hosts.joined(separator: ", "))"
            throw CommandRefusal(.notFound, "no app runs on a host named \"\(host)\" (\(known))")
        }
        if let cut = cuts[host] {
            throw CommandRefusal(.conflict, "host \(host) is cut off already, until \(Self.time(cut.view.until))")
        }
        guard !stopping else { throw CommandRefusal(.conflict, "the controller is stopping; nothing was cut") }
        guard !(await chaosStopped()) else {
            throw CommandRefusal(.conflict, "chaos is stopped; `slipway chaos release` allows cuts again")
        }
        // Checked again after the wait: a cut of the same host may have begun meanwhile.
        guard cuts[host] == nil else { throw CommandRefusal(.conflict, "host \(host) is cut off already") }
        let now = wallClock()
        let milliseconds = Int(request.duration.milliseconds)
        var view = ChaosHostCut(
            host: host,
            apps: apps(on: host),
            durationMs: milliseconds,
            at: now,
            until: now.addingTimeInterval(Double(milliseconds) / 1000),
            by: request.by,
            reason: request.reason
        )
        var fields: [String: JSONValue] = [
            "host": .string(host), "durationMs": .int(milliseconds), "by": .string(request.by),
        ]
        if let reason = request.reason { fields["reason"] = .string(reason) }
        var recorded: [RecordedEvent] = []
        for app in view.apps {
            guard let event = record(Event(app: app, kind: .chaosHostCut, fields: fields)) else { break }
            recorded.append(event)
        }
        guard recorded.count == view.apps.count else {
            ended(host, apps: recorded.map(\.app), cutFor: 0, thawed: 0, reason: "the event log cannot be written")
            throw CommandRefusal(.conflict, "the event log cannot be written; nothing was cut")
        }
        view.at = recorded.first?.time ?? now
        view.until = view.at.addingTimeInterval(Double(milliseconds) / 1000)
        // Held before the first wait, so that a second cut of the host is refused meanwhile.
        cuts[host] = Cut(view: view)
        switch await freeze(host, true) {
        case .failure(let problem):
            // Whatever was frozen before the host stopped answering is let go.
            _ = await freeze(host, false)
            cuts[host] = nil
            ended(host, apps: view.apps, cutFor: 0, thawed: 0, reason: "it could not be cut off", problem: "\(problem)")
            throw CommandRefusal(.conflict, "cannot reach \(host) to cut it off (\(problem)); nothing was cut")
        case .success(let frozen):
            view.frozen = frozen
        }
        // The controller began stopping meanwhile and let the host go already.
        guard cuts[host] != nil else { return view }
        cuts[host]?.view = view
        await cutOff(host, "cut off by chaos until \(Self.time(view.until))")
        schedule(host, until: view.until)
        return view
    }

    /// After a controller restart: every cut the log shows unended is held again (the controller does not reach the
    /// host) and ended on time, at once when its time has passed. Call before the hosts are first reached.
    public func recover(from log: EventLog) async {
        guard let events = try? log.events(kinds: [.chaosHostCut, .chaosHostRestored]) else { return }
        var open: [String: ChaosHostCut] = [:]
        for event in events {
            guard let host = event.fields["host"]?.stringValue else { continue }
            guard event.kind == .chaosHostCut else {
                open[host] = nil
                continue
            }
            // A cut is recorded once for each app on the host; a host is cut again only after it was let go.
            if var cut = open[host] {
                if !cut.apps.contains(event.app) { cut.apps.append(event.app) }
                open[host] = cut
                continue
            }
            let milliseconds = event.fields["durationMs"]?.intValue ?? 0
            open[host] = ChaosHostCut(
                host: host,
                apps: [event.app],
                durationMs: milliseconds,
                at: event.time,
                until: event.time.addingTimeInterval(Double(milliseconds) / 1000),
                by: event.fields["by"]?.stringValue ?? "?",
                reason: event.fields["reason"]?.stringValue
            )
        }
        for host in open.keys.sorted() {
            guard let view = open[host], cuts[host] == nil else { continue }
            guard hosts.contains(host) else {
                logger.warning("\(host) was cut off by chaos but no app runs there now; its processes were not let go")
                ended(
                    host,
                    apps: view.apps,
                    cutFor: 0,
                    thawed: 0,
                    reason: "no app runs on the host any more",
                    problem: "its processes were not let go"
                )
                continue
            }
            cuts[host] = Cut(view: view)
            await cutOff(host, "cut off by chaos until \(Self.time(view.until))")
            schedule(host, until: view.until)
        }
    }

    /// Ends every cut now (chaos was stopped): the hosts being let go.
    public func endAll(because reason: String) -> [String] {
        let hosts = cuts.filter { !$0.value.ending }.keys.sorted()
        for host in hosts {
            cuts[host]?.timer?.cancel()
            cuts[host]?.timer = nil
            Task { await self.restore(host, because: reason) }
        }
        return hosts
    }

    /// Lets every cut host go now, once each (the controller is stopping). A host that cannot be reached stays
    /// frozen, and its cut in the log unended: the next controller lets it go.
    public func restoreAll() async {
        stopping = true
        for host in cuts.keys.sorted() {
            guard var cut = cuts[host], !cut.ending else { continue }
            cut.timer?.cancel()
            cut.ending = true
            cuts[host] = cut
            if let problem = await letGo(host, cut, because: "the controller is stopping") {
                logger.warning(
                    "cannot let \(host) go (\(problem)): its processes stay frozen until a controller starts again"
                )
            }
        }
    }

    private func schedule(_ host: String, until: Date) {
        let delay = max(0, until.timeIntervalSince(wallClock()))
        cuts[host]?.timer = Task {
            // Rounded up: a cut never ends before its time.
            try? await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
            guard !Task.isCancelled else { return }
            await self.restore(host, because: "its time was up")
        }
    }

    /// Lets the host's processes go, trying again until the host answers (or the controller stops), then lets the
    /// controller reach it.
    private func restore(_ host: String, because reason: String) async {
        guard var cut = cuts[host], !cut.ending else { return }
        cut.ending = true
        cut.timer = nil
        cuts[host] = cut
        var attempt = 0
        while true {
            attempt += 1
            guard let problem = await letGo(host, cut, because: reason) else { return }
            if attempt == 1 || attempt % 30 == 0 {
                logger.warning("cannot let \(host) go yet (attempt \(attempt)): \(problem)")
            }
            guard !stopping else { return }
            try? await Task.sleep(for: retryPause)
            guard !stopping else { return }
        }
    }

    /// Sends `SIGCONT` to the host; once it got through, the controller reaches the host again and the cut's end is
    /// recorded. Why it did not get through, if it did not.
    private func letGo(_ host: String, _ cut: Cut, because reason: String) async -> HostFreezeError? {
        switch await freeze(host, false) {
        case .success(let thawed):
            await cutOff(host, nil)
            cuts[host] = nil
            ended(host, apps: cut.view.apps, cutFor: cutFor(cut.view), thawed: thawed, reason: reason)
            return nil
        case .failure(let problem):
            return problem
        }
    }

    private func cutFor(_ view: ChaosHostCut) -> Int {
        max(0, Int((wallClock().timeIntervalSince(view.at) * 1000).rounded()))
    }

    private func ended(
        _ host: String,
        apps: [String],
        cutFor: Int,
        thawed: Int,
        reason: String,
        problem: String? = nil
    ) {
        var fields: [String: JSONValue] = [
            "host": .string(host), "cutForMs": .int(cutFor), "thawed": .int(thawed), "reason": .string(reason),
        ]
        if let problem { fields["problem"] = .string(problem) }
        for app in apps { _ = record(Event(app: app, kind: .chaosHostRestored, fields: fields)) }
    }

    /// A moment as the reasons show it: `14:02:10 UTC`.
    private static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}
