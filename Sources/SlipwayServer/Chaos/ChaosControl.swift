import Foundation
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

    /// Creates a status.
    public init(
        stopped: ChaosLedger.Stop?,
        faults: [ChaosFault],
        monkeys: [ChaosMonkey.View] = [],
        kills: [ChaosKill] = []
    ) {
        self.stopped = stopped
        self.faults = faults
        self.monkeys = monkeys
        self.kills = kills
    }
}
