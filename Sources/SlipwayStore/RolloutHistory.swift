import Foundation
import SlipwayCore

/// Every rollout of an app as the log tells it: who started it, when, why, and how it ended.
public struct RolloutRecord: Sendable, Equatable, Codable {
    /// Its number within the app.
    public var number: Int
    /// The release that was stable, and the candidate.
    public var from: String
    public var to: String
    /// The strategy (or `rolling restart`, `rollback`).
    public var strategy: String
    /// Who started it, and why.
    public var by: String
    public var reason: String?
    public var startedAt: Date
    /// How it ended (`promoted`, `rolledBack`, `aborted`, `superseded`); nil while it runs.
    public var outcome: String?
    public var endedAt: Date?
    /// Why it went back, when it did.
    public var endReason: String?

    /// Creates a record.
    public init(
        number: Int,
        from: String,
        to: String,
        strategy: String,
        by: String,
        reason: String?,
        startedAt: Date,
        outcome: String? = nil,
        endedAt: Date? = nil,
        endReason: String? = nil
    ) {
        self.number = number
        self.from = from
        self.to = to
        self.strategy = strategy
        self.by = by
        self.reason = reason
        self.startedAt = startedAt
        self.outcome = outcome
        self.endedAt = endedAt
        self.endReason = endReason
    }

    /// Every rollout in `events` (one app's, in log order), oldest first.
    public static func fold(_ events: [RecordedEvent]) -> [RolloutRecord] {
        var records: [Int: RolloutRecord] = [:]
        for recorded in events {
            let fields = recorded.fields
            guard let number = fields["rollout"]?.intValue else { continue }
            switch recorded.kind {
            case .rolloutStarted:
                records[number] = RolloutRecord(
                    number: number,
                    from: fields["from"]?.stringValue ?? "?",
                    to: fields["to"]?.stringValue ?? "?",
                    strategy: fields["strategy"]?.stringValue ?? "?",
                    by: fields["by"]?.stringValue ?? "",
                    reason: fields["reason"]?.stringValue,
                    startedAt: recorded.time
                )
            case .rolloutRollingBack:
                records[number]?.endReason = fields["reason"]?.stringValue
            case .rolloutFinished:
                records[number]?.outcome = fields["outcome"]?.stringValue
                records[number]?.endedAt = recorded.time
                if let reason = fields["reason"]?.stringValue { records[number]?.endReason = reason }
            default:
                continue
            }
        }
        return records.values.sorted { $0.number < $1.number }
    }
}
