import Foundation
import SlipwayCore

/// How one version of an app went through the environments (dev → staging → prod): per environment, its latest
/// rollout there, if it had one.
public struct ReleasePath: Sendable, Equatable, Codable {
    /// The version's latest rollout in one environment.
    public struct Stage: Sendable, Equatable, Codable {
        /// The environment.
        public var environment: String
        /// The rollout's number within the app's copy in that environment.
        public var rollout: Int
        /// `promoted`, `rolledBack`, `aborted`, `superseded`, or `running`.
        public var outcome: String
        /// When it started and ended.
        public var startedAt: Date
        public var endedAt: Date?
        /// Who started it.
        public var by: String
        /// Why it went back, when it did.
        public var endReason: String?
    }

    /// The version.
    public var version: String
    /// Its stages, in environment order; environments it never reached are absent.
    public var stages: [Stage]

    /// The paths of every version that had a rollout in one of `environments` (in promotion order), newest
    /// version first. `records` holds each environment's rollouts (of the app's copy there), oldest first.
    public static func build(environments: [String], records: [String: [RolloutRecord]]) -> [ReleasePath] {
        var firstSeen: [String: Date] = [:]
        for environment in environments {
            for record in records[environment] ?? [] where record.strategy != "rolling restart" {
                firstSeen[record.to] = min(firstSeen[record.to] ?? record.startedAt, record.startedAt)
            }
        }
        let versions = firstSeen.keys.sorted { lhs, rhs in
            firstSeen[lhs]! != firstSeen[rhs]! ? firstSeen[lhs]! > firstSeen[rhs]! : lhs > rhs
        }
        return versions.map { version in
            ReleasePath(
                version: version,
                stages: environments.compactMap { environment in
                    guard
                        let record = records[environment]?.last(where: {
                            $0.to == version && $0.strategy != "rolling restart"
                        })
                    else { return nil }
                    return Stage(
                        environment: environment,
                        rollout: record.number,
                        outcome: record.outcome ?? "running",
                        startedAt: record.startedAt,
                        endedAt: record.endedAt,
                        by: record.by,
                        endReason: record.endReason
                    )
                }
            )
        }
    }
}
