import Foundation
import SlipwayCore
import SlipwayProxy

/// Which faults are in force and whether chaos is stopped, folded from the event log (`faultAdded`,
/// `faultRemoved`, `chaosStopped`, `chaosReleased`) in this one place. A fault past its expiry is still in the
/// ledger until its `faultRemoved` is recorded, but ``active(at:)`` leaves it out at once.
public struct ChaosLedger: Sendable, Equatable {
    /// A fault the log says was added and not removed.
    public struct Entry: Sendable, Equatable, Codable {
        /// The app whose proxy applies it.
        public var app: String
        /// The fault.
        public var fault: FaultSpec
        /// Who added it.
        public var by: String
        /// Why, as they said.
        public var reason: String?
        /// What owns it, when not a person: `rollout web #3` for a rollout's chaos step, which removes it.
        public var owner: String?
        /// When it was recorded.
        public var addedAt: Date

        /// When it expires.
        public var expiresAt: Date { Date(timeIntervalSince1970: Double(fault.expiresAtMs) / 1000) }
    }

    /// A chaos experiment begun and not yet ended (`slipway chaos run` reports its end).
    public struct Experiment: Sendable, Equatable, Codable {
        /// The run's id, given by `slipway chaos run`.
        public var id: String
        /// The experiment's title.
        public var title: String
        /// Who runs it.
        public var by: String
        /// The apps it touches.
        public var apps: [String]
        /// When it began.
        public var startedAt: Date
    }

    /// A stop in force: new faults are refused.
    public struct Stop: Sendable, Equatable, Codable {
        /// Who stopped chaos.
        public var by: String
        /// Why.
        public var reason: String?
        /// When.
        public var at: Date
    }

    /// The faults added and not yet removed, in the order they were added.
    public private(set) var entries: [Entry] = []
    /// Set while chaos is stopped.
    public private(set) var stop: Stop?
    /// The experiments begun and not ended, by id.
    public private(set) var experiments: [String: Experiment] = [:]
    /// The highest fault number given so far (ids are `f1`, `f2`, …), so a new id is never one given before.
    public private(set) var highestNumber = 0

    /// An empty ledger.
    public init() {}

    /// The ledger of `events` (any order of apps; log order).
    public static func fold(_ events: [RecordedEvent]) -> ChaosLedger {
        var ledger = ChaosLedger()
        for event in events { ledger.apply(event) }
        return ledger
    }

    /// The kinds this ledger folds.
    public static let kinds: Set<EventKind> = [
        .faultAdded, .faultRemoved, .chaosStopped, .chaosReleased, .chaosExperimentStarted, .chaosExperimentRan,
    ]

    /// Applies one event; others change nothing.
    public mutating func apply(_ recorded: RecordedEvent) {
        let fields = recorded.fields
        switch recorded.kind {
        case .faultAdded:
            guard let fault = fields["fault"]?.decoded(as: FaultSpec.self) else { return }
            if let number = Self.number(of: fault.id) { highestNumber = max(highestNumber, number) }
            entries.removeAll { $0.app == recorded.app && $0.fault.id == fault.id }
            entries.append(
                Entry(
                    app: recorded.app,
                    fault: fault,
                    by: fields["by"]?.stringValue ?? "?",
                    reason: fields["reason"]?.stringValue,
                    owner: fields["owner"]?.stringValue,
                    addedAt: recorded.time
                )
            )
        case .faultRemoved:
            guard let id = fields["id"]?.stringValue else { return }
            entries.removeAll { $0.app == recorded.app && $0.fault.id == id }
        case .chaosStopped:
            // Recorded once per app; any of them ends every fault.
            entries = []
            if stop == nil {
                stop = Stop(
                    by: fields["by"]?.stringValue ?? "?",
                    reason: fields["reason"]?.stringValue,
                    at: recorded.time
                )
            }
        case .chaosReleased:
            stop = nil
        case .chaosExperimentStarted:
            // Recorded once per app it touches: the first one counts.
            guard let id = fields["id"]?.stringValue, experiments[id] == nil else { return }
            var apps: [String] = []
            if case .array(let names)? = fields["apps"] { apps = names.compactMap(\.stringValue) }
            experiments[id] = Experiment(
                id: id,
                title: fields["title"]?.stringValue ?? "?",
                by: fields["by"]?.stringValue ?? "?",
                apps: apps,
                startedAt: recorded.time
            )
        case .chaosExperimentRan:
            if let id = fields["id"]?.stringValue { experiments[id] = nil }
        default:
            break
        }
    }

    /// The faults of `app` that still apply at `now` (not expired), in the order they were added.
    public func active(app: String, at now: Date) -> [FaultSpec] {
        entries.filter { $0.app == app && $0.expiresAt > now }.map(\.fault)
    }

    /// Every fault that still applies at `now`.
    public func active(at now: Date) -> [Entry] {
        entries.filter { $0.expiresAt > now }
    }

    /// The entry of fault `id` of `app`.
    public func entry(app: String, id: String) -> Entry? {
        entries.first { $0.app == app && $0.fault.id == id }
    }

    private static func number(of id: String) -> Int? {
        guard id.hasPrefix("f") else { return nil }
        return Int(id.dropFirst())
    }
}
