import Foundation
import GRDB

/// Requests counted per app and clock hour (UTC), kept beside the event log.
public struct HourlyRequests: Sendable, Equatable, Codable {
    /// The hour's start.
    public var hour: Date
    /// Requests the app's listener received in it.
    public var requests: Int

    /// Creates a count.
    public init(hour: Date, requests: Int) {
        self.hour = hour
        self.requests = requests
    }
}

extension EventLog {
    /// Adds `requests` to the count of `app` in the hour that contains `time`.
    public func addTraffic(app: String, requests: Int, at time: Date) throws(StoreError) {
        guard requests > 0 else { return }
        let hour = Int((time.timeIntervalSince1970 / 3_600).rounded(.down)) * 3_600
        do {
            try writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO traffic_hour (app, hour, requests) VALUES (?, ?, ?)
                        ON CONFLICT (app, hour) DO UPDATE SET requests = requests + excluded.requests
                        """,
                    arguments: [app, hour, requests]
                )
            }
        } catch {
            throw .io(path: path, reason: "cannot record traffic: \(error)")
        }
    }

    /// The hourly counts of `app` from `since` on, oldest first.
    public func traffic(app: String, since: Date) throws(StoreError) -> [HourlyRequests] {
        do {
            return try writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT hour, requests FROM traffic_hour WHERE app = ? AND hour >= ? ORDER BY hour",
                    arguments: [app, Int(since.timeIntervalSince1970)]
                ).map { row in
                    HourlyRequests(
                        hour: Date(timeIntervalSince1970: TimeInterval(row["hour"] as Int)),
                        requests: row["requests"]
                    )
                }
            }
        } catch {
            throw .io(path: path, reason: "cannot read traffic: \(error)")
        }
    }
}
