import Foundation
import SlipwayCore
import SlipwayProxy

/// What the chaos endpoints of the API drive: faults in the apps' proxies, and the stop that removes them all.
public protocol ChaosControl: Sendable {
    /// Adds a fault to `app`'s proxy; recorded before it applies.
    func addFault(app: String, _ request: FaultRequest) async throws(CommandRefusal) -> ChaosFault
    /// Removes fault `id` of `app`.
    func removeFault(app: String, id: String, by user: String) async throws(CommandRefusal) -> ChaosFault
    /// Removes every fault and refuses new ones until ``releaseChaos(by:)``.
    func stopChaos(by user: String, reason: String?) async throws(CommandRefusal) -> ChaosStatus
    /// Allows faults again after a stop.
    func releaseChaos(by user: String) async throws(CommandRefusal) -> ChaosStatus
    /// The faults in force and whether chaos is stopped.
    func chaosStatus() async throws(CommandRefusal) -> ChaosStatus
    /// Crashes or freezes an instance of `app`; recorded before its signal.
    func killInstance(app: String, _ request: KillRequest) async throws(CommandRefusal) -> ChaosKill
    /// Cuts the controller off `host` and freezes what Slipway runs there, for a while; recorded before anything is
    /// done.
    func cutHost(_ host: String, _ request: CutRequest) async throws(CommandRefusal) -> ChaosHostCut
    /// Records an experiment's run and journal (`chaosExperimentRan`) for each app it touched.
    func recordExperiment(_ record: ExperimentRecord) async throws(CommandRefusal) -> ExperimentRecord
    /// `app`'s cumulative traffic over all its versions, as the proxy counted it (injected faults left out).
    func traffic(app: String) async throws(CommandRefusal) -> TrafficTotals
}

/// An app's cumulative traffic: what an experiment's steady-state probe compares between two moments.
public struct TrafficTotals: Sendable, Equatable, Codable {
    /// Finished requests.
    public var requests: Int
    /// The app's own 5xx among them.
    public var errors: Int
    /// Their latencies: `[microseconds, count]` pairs, ascending.
    public var latency: [[Int]]

    /// Creates totals.
    public init(requests: Int, errors: Int, latency: [[Int]]) {
        self.requests = requests
        self.errors = errors
        self.latency = latency
    }
}

/// A chaos experiment's run, as `slipway chaos run` reports it to the controller for the event log.
public struct ExperimentRecord: Sendable, Equatable, Codable {
    /// The experiment's title.
    public var title: String
    /// `running` (sent when it begins, then every 15 s), or how it ended: `completed`, `failed`, `aborted` or
    /// `interrupted`.
    public var status: String
    /// Whether the steady state deviated.
    public var deviated: Bool
    /// Why it was aborted, failed or deviated.
    public var reason: String?
    /// How long it ran.
    public var durationMs: Int
    /// The apps it touched (its events are recorded for each; for every app when none is known).
    public var apps: [String]
    /// The journal.
    public var journal: JSONValue
    /// Who ran it.
    public var by: String
    /// The run's id, the same from its `running` reports to its end (the controller gives one to a first `running`
    /// report without it); nil for a run that reports only its end.
    public var id: String?

    /// The fields the endpoint accepts.
    static let fields: Set<String> = [
        "title", "status", "deviated", "reason", "durationMs", "apps", "journal", "by", "id",
    ]

    /// Creates a record.
    public init(
        title: String,
        status: String,
        deviated: Bool,
        reason: String?,
        durationMs: Int,
        apps: [String],
        journal: JSONValue,
        by: String,
        id: String? = nil
    ) {
        self.title = title
        self.status = status
        self.deviated = deviated
        self.reason = reason
        self.durationMs = durationMs
        self.apps = apps
        self.journal = journal
        self.by = by
        self.id = id
    }

    /// Reads a request body; a refusal names the field.
    init(_ body: CommandBody) throws(CommandRefusal) {
        guard let title = try body.string("title"), !title.isEmpty else {
            throw CommandRefusal(.badRequest, "\"title\": missing (expected the experiment's title)")
        }
        let statuses = ["running", "completed", "failed", "aborted", "interrupted"]
        guard let status = try body.string("status"), statuses.contains(status) else {
            throw CommandRefusal(.badRequest, "\"status\": expected one of \(statuses.joined(separator: ", "))")
        }
        guard let deviated = try body.bool("deviated") else {
            throw CommandRefusal(.badRequest, "\"deviated\": missing (expected true or false)")
        }
        guard let durationMs = try body.int("durationMs", in: 0...Int(Int32.max)) else {
            throw CommandRefusal(.badRequest, "\"durationMs\": missing (expected a whole number)")
        }
        guard let journal = body.value("journal"), case .object = journal else {
            throw CommandRefusal(.badRequest, "\"journal\": missing (expected the journal, an object)")
        }
        guard case .array(let apps)? = body.value("apps"), let names = apps.map(\.stringValue) as [String?]?,
            names.allSatisfy({ $0 != nil })
        else {
            throw CommandRefusal(.badRequest, "\"apps\": expected a list of app names")
        }
        self.init(
            title: title,
            status: status,
            deviated: deviated,
            reason: try body.string("reason"),
            durationMs: durationMs,
            apps: names.compactMap { $0 },
            journal: journal,
            by: try body.by,
            id: try body.string("id")
        )
        if let id,
            id.isEmpty || id.utf8.count > 64
                || !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        {
            throw CommandRefusal(.badRequest, "\"id\": expected 1 to 64 ASCII letters, digits and '-'")
        }
    }
}

/// A fault in force, as the API shows it.
public struct ChaosFault: Sendable, Equatable, Codable {
    /// The app whose proxy applies it.
    public var app: String
    /// Its id (`f1`, `f2`, …).
    public var id: String
    /// The fault in a few words.
    public var summary: String
    /// The fault itself.
    public var fault: FaultSpec
    /// Who added it, and why.
    public var by: String
    public var reason: String?
    /// When it was added and when it expires.
    public var addedAt: Date
    public var expiresAt: Date
    /// The requests it affected so far (as the data plane counts them).
    public var affected: Int

    /// The view of a ledger entry.
    public init(_ entry: ChaosLedger.Entry, affected: Int) {
        self.app = entry.app
        self.id = entry.fault.id
        self.summary = entry.fault.summary
        self.fault = entry.fault
        self.by = entry.by
        self.reason = entry.reason
        self.addedAt = entry.addedAt
        self.expiresAt = entry.expiresAt
        self.affected = affected
    }
}

/// Whether chaos is stopped, the faults in force, the apps' monkeys and the latest kills.
public struct ChaosStatus: Sendable, Equatable, Codable {
    /// Set while chaos is stopped: new faults are refused and no monkey acts.
    public var stopped: ChaosLedger.Stop?
    /// Every fault in force, in the order they were added.
    public var faults: [ChaosFault]
    /// The monkey of every app that has one.
    public var monkeys: [ChaosMonkey.View]
    /// The latest crashes and freezes, newest last.
    public var kills: [ChaosKill]
    /// The chaos experiments running now, oldest first.
    public var experiments: [ChaosLedger.Experiment]
    /// The hosts cut off now, by name.
    public var cuts: [ChaosHostCut]

    /// Creates a status.
    public init(
        stopped: ChaosLedger.Stop?,
        faults: [ChaosFault],
        monkeys: [ChaosMonkey.View] = [],
        kills: [ChaosKill] = [],
        experiments: [ChaosLedger.Experiment] = [],
        cuts: [ChaosHostCut] = []
    ) {
        self.stopped = stopped
        self.faults = faults
        self.monkeys = monkeys
        self.kills = kills
        self.experiments = experiments
        self.cuts = cuts
    }
}
