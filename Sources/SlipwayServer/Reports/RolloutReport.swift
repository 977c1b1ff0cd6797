import Foundation
import SlipwayCore
import SlipwayStore

/// Everything a team needs to act on one rollout, above all a rollback: what was shipped, what happened step by step,
/// how each version's traffic went, each decision with its evidence, the candidate's failed requests and what its
/// instances wrote to standard error. Served as JSON and as a self-contained HTML page (``RolloutReportPage``).
public struct RolloutReport: Sendable, Equatable, Codable {
    /// The app and the rollout's number within it.
    public var app: String
    public var rollout: Int
    /// The rollout as the event log tells it: versions, strategy, who and why, release metadata, outcome.
    public var record: RolloutRecord
    /// The candidate's versions: the version rolled out and, in an A/B/n test, its other variants.
    public var candidates: [String]
    /// The steps, weights, decisions and instance events, oldest first.
    public var timeline: [TimelineEntry]
    /// Each version's share of traffic from each change on (percent by version).
    public var weights: [WeightChange]
    /// Each version's traffic over the rollout, as the proxy counted it.
    public var traffic: [VersionTraffic]
    /// Each analysis verdict, comparison and rollback, with the checks behind it.
    public var decisions: [Decision]
    /// The candidate's newest requests answered 5xx, newest first, and how many were recorded in all.
    public var failedRequests: [FailedRequest]
    public var failedRequestsRecorded: Int
    /// The last lines the candidate's instances wrote to standard error.
    public var stderr: [InstanceOutput]

    /// One line of the timeline.
    public struct TimelineEntry: Sendable, Equatable, Codable {
        public var time: Date
        /// The event's kind, and its instance when it concerns one.
        public var kind: String
        public var instance: String?
        /// What happened, in a sentence.
        public var text: String
        /// Whether it is bad news (a failed check, an unhealthy instance, a rollback).
        public var alarming: Bool
    }

    /// The traffic split from `time` on.
    public struct WeightChange: Sendable, Equatable, Codable {
        public var time: Date
        public var percent: [String: Double]
    }

    /// One version's traffic over time.
    public struct VersionTraffic: Sendable, Equatable, Codable {
        public var version: String
        /// `stable`, `candidate` or `variant`.
        public var role: String
        public var points: [Point]
        /// Over the whole rollout: requests, 5xx, and the worst p99 of any point.
        public var requests: Int
        public var errors: Int
        public var worstP99Ms: Double?

        /// One interval.
        public struct Point: Sendable, Equatable, Codable {
            /// When it ended, and how long it lasted.
            public var time: Date
            public var seconds: Double
            public var requests: Int
            public var errors: Int
            public var p99Ms: Double?

            /// Requests per second.
            public var rps: Double { seconds > 0 ? Double(requests) / seconds : 0 }
            /// The share answered 5xx; nil when none finished.
            public var errorRate: Double? { requests > 0 ? Double(errors) / Double(requests) : nil }
        }
    }

    /// A verdict and what it rests on.
    public struct Decision: Sendable, Equatable, Codable {
        public var time: Date
        /// `analysis`, `comparison`, `experiment`, `rollback`, `hook`, `promotion`, `command`.
        public var kind: String
        /// `pass`, `fail`, `inconclusive`, `rolledBack`, …
        public var verdict: String
        public var summary: String
        public var checks: [Check]

        /// One check: as written, the value measured, the bound, on how many requests.
        public struct Check: Sendable, Equatable, Codable {
            public var check: String
            public var value: String
            public var threshold: String
            public var samples: Int?
            public var passed: Bool
        }
    }

    /// An instance's standard error, when the rollout's verdict became final (or when it crashed).
    public struct InstanceOutput: Sendable, Equatable, Codable {
        public var instance: String
        public var version: String
        public var time: Date
        /// `verdict` (recorded when the verdict became final) or `crash` (its exit).
        public var when: String
        public var lines: [String]
    }
}
