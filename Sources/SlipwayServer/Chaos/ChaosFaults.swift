import Foundation
import Logging
import SlipwayCore
import SlipwayProxy
import SlipwayStore

/// Carries out the chaos commands: records each fault before the proxy applies it, keeps every app's proxy
/// holding exactly the faults the log says are in force, and records each fault's end (removed, expired, bound
/// reached). One actor, so the sets pushed to the data plane follow the order of the events.
public actor ChaosFaults {
    /// The most faults one app may have at once.
    public static let maximumFaultsPerApp = 32

    private var ledger: ChaosLedger
    private let apps: [String]
    private let record: @Sendable (Event) -> RecordedEvent?
    private let router: @Sendable () -> (any TrafficRouter)?
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    /// When `slipway chaos run` last said each experiment was running.
    private var experimentSeen: [String: Date] = [:]

    /// A desk for `apps` whose state is folded from `log`.
    public init(
        apps: [String],
        log: EventLog,
        record: @escaping @Sendable (Event) -> RecordedEvent?,
        router: @escaping @Sendable () -> (any TrafficRouter)?,
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "slipway.chaos")
    ) throws(StoreError) {
        self.ledger = ChaosLedger.fold(try log.events(kinds: ChaosLedger.kinds))
        self.apps = apps
        self.record = record
        self.router = router
        self.wallClock = wallClock
        self.logger = logger
    }

    public func addFault(app: String, _ request: FaultRequest) async throws(CommandRefusal) -> ChaosFault {
        try known(app)
        if let stop = ledger.stop {
            throw CommandRefusal(
                .conflict,
                "chaos is stopped (by \(stop.by)\(stop.reason.map { ": \($0)" } ?? "")); "
                    + "`slipway chaos release` allows faults again"
            )
        }
        let now = wallClock()
        guard ledger.active(app: app, at: now).count < Self.maximumFaultsPerApp else {
            throw CommandRefusal(.conflict, "app \"\(app)\" has \(Self.maximumFaultsPerApp) faults already")
        }
        var fault = request.fault
        fault.id = "f\(ledger.highestNumber + 1)"
        fault.expiresAtMs = Int64((now.timeIntervalSince1970 * 1000).rounded()) + Int64(request.duration.milliseconds)
        var fields: [String: JSONValue] = [
            "fault": JSONValue(encoding: fault) ?? .null, "summary": .string(fault.summary), "by": .string(request.by),
        ]
        if let reason = request.reason { fields["reason"] = .string(reason) }
        if let owner = request.owner { fields["owner"] = .string(owner) }
        try apply(Event(app: app, kind: .faultAdded, fields: fields))
        do {
            try await push(app)
        } catch {
            try? apply(
                Event(
                    app: app,
                    kind: .faultRemoved,
                    fields: ["id": .string(fault.id), "reason": .string("the data plane refused it: \(error)")]
                )
            )
            throw CommandRefusal(.conflict, "the data plane refused the fault: \(error)")
        }
        guard let entry = ledger.entry(app: app, id: fault.id) else {
            throw CommandRefusal(.conflict, "fault \(fault.id) of \(app) ended as it was added")
        }
        return ChaosFault(entry, affected: 0)
    }

    public func removeFault(app: String, id: String, by user: String) async throws(CommandRefusal) -> ChaosFault {
        try known(app)
        guard let entry = ledger.entry(app: app, id: id), entry.expiresAt > wallClock() else {
            throw CommandRefusal(.notFound, "app \"\(app)\" has no fault \"\(id)\" in force")
        }
        let affected = await held(app)[id]?.affected ?? 0
        try apply(
            Event(
                app: app,
                kind: .faultRemoved,
                fields: ["id": .string(id), "reason": "removed", "by": .string(user), "affected": .int(affected)]
            )
        )
        try? await push(app)
        return ChaosFault(entry, affected: affected)
    }

    /// Removes every fault `owner` added, of any app; returns how many were in force.
    @discardableResult
    public func removeFaults(owner: String, reason: String) async -> Int {
        var touched: Set<String> = []
        var removed = 0
        for entry in ledger.entries where entry.owner == owner {
            let affected = await held(entry.app)[entry.fault.id]?.affected
            var fields: [String: JSONValue] = [
                "id": .string(entry.fault.id), "reason": .string(reason), "by": .string(owner),
            ]
            if let affected { fields["affected"] = .int(affected) }
            if (try? apply(Event(app: entry.app, kind: .faultRemoved, fields: fields))) != nil {
                touched.insert(entry.app)
                removed += 1
            }
        }
        for app in touched.sorted() {
            do {
                try await push(app)
            } catch {
                logger.warning("cannot remove the faults of \(owner) from \(app)'s data plane: \(error)")
            }
        }
        return removed
    }

    public func stopChaos(by user: String, reason: String?) async throws(CommandRefusal) -> ChaosStatus {
        if ledger.stop == nil {
            let now = wallClock()
            for app in apps {
                var fields: [String: JSONValue] = [
                    "by": .string(user), "removed": .int(ledger.active(app: app, at: now).count),
                ]
                if let reason { fields["reason"] = .string(reason) }
                try apply(Event(app: app, kind: .chaosStopped, fields: fields))
            }
        }
        // Pushed even when already stopped: a data plane that still held something holds nothing now.
        for app in apps {
            do {
                try await push(app)
            } catch {
                logger.error("cannot remove the faults of \(app) from the data plane: \(error)")
            }
        }
        return await chaosStatus()
    }

    public func releaseChaos(by user: String) async throws(CommandRefusal) -> ChaosStatus {
        if ledger.stop != nil {
            for app in apps { try apply(Event(app: app, kind: .chaosReleased, fields: ["by": .string(user)])) }
        }
        return await chaosStatus()
    }

    /// Records a chaos event that changes no fault (an experiment's end).
    public func recordEvent(_ event: Event) throws(CommandRefusal) {
        guard let recorded = record(event) else {
            throw CommandRefusal(.conflict, "the event log cannot be written")
        }
        ledger.apply(recorded)
    }

    /// How long an experiment stays shown as running after `slipway chaos run` last said so (it says so every 15 s;
    /// one killed outright stops saying it).
    public static let experimentSilence = Duration.seconds(60)

    /// `slipway chaos run` says its experiment is running: recorded (`chaosExperimentStarted`, for each of `apps`)
    /// the first time, remembered as alive every time.
    public func experimentRunning(id: String, title: String, by user: String, apps: [String]) throws(CommandRefusal) {
        if ledger.experiments[id] == nil {
            let fields: [String: JSONValue] = [
                "id": .string(id), "title": .string(title), "by": .string(user),
                "apps": .array(apps.map(JSONValue.string)),
            ]
            for app in apps { try apply(Event(app: app, kind: .chaosExperimentStarted, fields: fields)) }
        }
        experimentSeen[id] = wallClock()
    }

    /// The experiments running now: begun, not ended, and heard from lately.
    public func runningExperiments() -> [ChaosLedger.Experiment] {
        let now = wallClock()
        let silence = Double(Self.experimentSilence.components.seconds)
        return ledger.experiments.values.filter { experiment in
            now.timeIntervalSince(experimentSeen[experiment.id] ?? experiment.startedAt) < silence
        }.sorted { $0.startedAt < $1.startedAt }
    }

    /// Whether chaos is stopped now.
    public var isStopped: Bool { ledger.stop != nil }

    public func chaosStatus() async -> ChaosStatus {
        var faults: [ChaosFault] = []
        let now = wallClock()
        for app in apps {
            let entries = ledger.active(at: now).filter { $0.app == app }
            guard !entries.isEmpty else { continue }
            let held = await held(app)
            faults += entries.map { ChaosFault($0, affected: held[$0.fault.id]?.affected ?? 0) }
        }
        return ChaosStatus(stopped: ledger.stop, faults: faults, experiments: runningExperiments())
    }

    /// Records the end of every fault that expired or reached its bound, and makes each app's proxy hold exactly
    /// the faults in force (after a controller or data plane restart, or a push that failed). Run every second.
    public func reconcile() async {
        let now = wallClock()
        for app in apps {
            let held = await held(app)
            for entry in ledger.entries where entry.app == app {
                let affected = held[entry.fault.id]?.affected
                let reason: String
                if entry.expiresAt <= now {
                    reason = "expired"
                } else if let bound = entry.fault.maxRequests, let affected, affected >= bound {
                    reason = "reachedItsBound"
                } else {
                    continue
                }
                var fields: [String: JSONValue] = ["id": .string(entry.fault.id), "reason": .string(reason)]
                if let affected { fields["affected"] = .int(affected) }
                try? apply(Event(app: app, kind: .faultRemoved, fields: fields))
            }
            let wanted = ledger.active(app: app, at: now)
            if held.values.map(\.spec).sorted(by: { $0.id < $1.id }) != wanted.sorted(by: { $0.id < $1.id }) {
                do {
                    try await push(app)
                } catch {
                    logger.warning("cannot set the faults of \(app) in the data plane: \(error)")
                }
            }
        }
    }

    /// Reconciles every `interval` until cancelled.
    public func run(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await reconcile()
            try? await Task.sleep(for: interval)
        }
    }

    private func known(_ app: String) throws(CommandRefusal) {
        guard apps.contains(app) else {
            throw CommandRefusal(.notFound, "no app named \"\(app)\" (apps: \(apps.joined(separator: ", ")))")
        }
    }

    /// Records `event` and folds it into the ledger.
    private func apply(_ event: Event) throws(CommandRefusal) {
        guard let recorded = record(event) else {
            throw CommandRefusal(.conflict, "the event log cannot be written; nothing changed")
        }
        ledger.apply(recorded)
    }

    /// Sets `app`'s faults in the data plane to those in force.
    private func push(_ app: String) async throws {
        guard let router = router() else { return }
        try await router.setFaults(app, ledger.active(app: app, at: wallClock()))
    }

    /// The faults the data plane holds for `app`, by id; none when it cannot be asked.
    private func held(_ app: String) async -> [String: FaultStatus] {
        guard let router = router(), let statuses = try? await router.faults(app) else { return [:] }
        return Dictionary(statuses.map { ($0.spec.id, $0) }, uniquingKeysWith: { $1 })
    }
}
