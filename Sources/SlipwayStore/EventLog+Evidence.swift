import Foundation
import GRDB
import SlipwayCore

/// One version's traffic over one interval of a rollout, as the proxy counted it.
public struct RolloutTrafficPoint: Sendable, Equatable, Codable {
    /// When the interval ended.
    public var time: Date
    /// The version.
    public var version: String
    /// How long the interval lasted.
    public var seconds: Double
    /// Requests finished in it, and the 5xx among them.
    public var requests: Int
    public var errors: Int
    /// Their 99th percentile latency in milliseconds; nil when none finished.
    public var p99Ms: Double?

    /// Creates a point.
    public init(time: Date, version: String, seconds: Double, requests: Int, errors: Int, p99Ms: Double?) {
        self.time = time
        self.version = version
        self.seconds = seconds
        self.requests = requests
        self.errors = errors
        self.p99Ms = p99Ms
    }
}

/// A rollout's recorded failed requests: the newest of them, and how many were kept in all.
public struct RecordedFailures: Sendable, Equatable {
    /// The newest, newest first.
    public var newest: [FailedRequest]
    /// How many the log keeps for the rollout (at most the cap ``EventLog/addEvidence(app:rollout:points:failures:)``
    /// was given).
    public var kept: Int

    /// Creates the answer.
    public init(newest: [FailedRequest], kept: Int) {
        self.newest = newest
        self.kept = kept
    }
}

/// A rollout's evidence beside the event log: its traffic over time and its failed requests. Bounded per rollout by
/// the writer, and kept for the newest rollouts of each app only (``pruneEvidence(app:keepingNewest:)``).
extension EventLog {
    /// Records traffic points and failed requests of rollout `rollout` of `app`, in one transaction. A failed request
    /// already recorded is not recorded twice; none is recorded once the rollout has `failureCap` of them.
    public func addEvidence(
        app: String,
        rollout: Int,
        points: [RolloutTrafficPoint],
        failures: [FailedRequest],
        failureCap: Int
    ) throws(StoreError) {
        guard !points.isEmpty || !failures.isEmpty else { return }
        do {
            try writer.write { db in
                for point in points {
                    try db.execute(
                        sql: """
                            INSERT OR REPLACE INTO rollout_point
                              (app, rollout, time, version, seconds, requests, errors, p99_ms)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            app, rollout, point.time.timeIntervalSince1970, point.version, point.seconds,
                            point.requests, point.errors, point.p99Ms,
                        ]
                    )
                }
                guard !failures.isEmpty else { return }
                var kept =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM failed_request WHERE app = ? AND rollout = ?",
                        arguments: [app, rollout]
                    ) ?? 0
                for failure in failures where kept < failureCap {
                    try db.execute(
                        sql: """
                            INSERT OR IGNORE INTO failed_request
                              (app, rollout, time_ns, version, instance, method, path, status, latency_ms, request_id,
                               proxy_error)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            app, rollout, failure.timeNs, failure.version, failure.instance, failure.method,
                            failure.path, failure.status, failure.latencyMs, failure.requestID, failure.proxyError,
                        ]
                    )
                    kept += db.changesCount
                }
            }
        } catch {
            throw .io(path: path, reason: "cannot record the evidence of rollout #\(rollout) of \(app): \(error)")
        }
    }

    /// The traffic points of rollout `rollout` of `app`, oldest first.
    public func trafficPoints(app: String, rollout: Int) throws(StoreError) -> [RolloutTrafficPoint] {
        do {
            return try writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT time, version, seconds, requests, errors, p99_ms FROM rollout_point
                        WHERE app = ? AND rollout = ? ORDER BY time, version
                        """,
                    arguments: [app, rollout]
                ).map { row in
                    RolloutTrafficPoint(
                        time: Date(timeIntervalSince1970: row["time"]),
                        version: row["version"],
                        seconds: row["seconds"],
                        requests: row["requests"],
                        errors: row["errors"],
                        p99Ms: row["p99_ms"]
                    )
                }
            }
        } catch {
            throw .io(path: path, reason: "cannot read the traffic of rollout #\(rollout) of \(app): \(error)")
        }
    }

    /// The newest `limit` failed requests of rollout `rollout` of `app`, and how many it has.
    public func failedRequests(app: String, rollout: Int, limit: Int) throws(StoreError) -> RecordedFailures {
        do {
            return try writer.read { db in
                let kept =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM failed_request WHERE app = ? AND rollout = ?",
                        arguments: [app, rollout]
                    ) ?? 0
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT time_ns, version, instance, method, path, status, latency_ms, request_id, proxy_error
                        FROM failed_request WHERE app = ? AND rollout = ? ORDER BY time_ns DESC LIMIT ?
                        """,
                    arguments: [app, rollout, max(0, limit)]
                )
                let newest = rows.map { row in
                    FailedRequest(
                        timeNs: row["time_ns"],
                        version: row["version"],
                        instance: row["instance"],
                        method: row["method"],
                        path: row["path"],
                        status: row["status"],
                        latencyMs: row["latency_ms"],
                        requestID: row["request_id"],
                        proxyError: row["proxy_error"]
                    )
                }
                return RecordedFailures(newest: newest, kept: kept)
            }
        } catch {
            throw .io(path: path, reason: "cannot read the failed requests of rollout #\(rollout) of \(app): \(error)")
        }
    }

    /// The time of the newest failed request recorded for rollout `rollout` of `app` (nanoseconds since 1970), 0 when
    /// none is: where reading the data plane's failed requests resumes.
    public func newestFailureTime(app: String, rollout: Int) throws(StoreError) -> Int64 {
        do {
            return try writer.read { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT MAX(time_ns) FROM failed_request WHERE app = ? AND rollout = ?",
                    arguments: [app, rollout]
                ) ?? 0
            }
        } catch {
            throw .io(path: path, reason: "cannot read the failed requests of rollout #\(rollout) of \(app): \(error)")
        }
    }

    /// Forgets the evidence of every rollout of `app` but the newest `count` (by number).
    public func pruneEvidence(app: String, keepingNewest count: Int) throws(StoreError) {
        do {
            try writer.write { db in
                for table in ["rollout_point", "failed_request"] {
                    try db.execute(
                        sql: """
                            DELETE FROM \(table) WHERE app = ? AND rollout <= (
                              SELECT MAX(rollout) - ? FROM \(table) WHERE app = ?)
                            """,
                        arguments: [app, count, app]
                    )
                }
            }
        } catch {
            throw .io(path: path, reason: "cannot prune the rollout evidence of \(app): \(error)")
        }
    }
}
