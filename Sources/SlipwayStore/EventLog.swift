import Foundation
import GRDB
import SlipwayCore

/// The append-only event log: the source of truth every status view is folded from.
///
/// SQLite in WAL mode under the state directory (`slipway.sqlite`), so readers such as `slipway status` never
/// block the controller's writes. The schema changes only through new migrations; shipped ones never change.
public final class EventLog: Sendable {
    /// The database file name inside the state directory.
    public static let fileName = "slipway.sqlite"

    /// Where the database lives (`:memory:` for an in-memory log).
    public let path: String
    let writer: any DatabaseWriter

    /// Opens the log in `directory`, creating the directory and the database when `create` is true.
    ///
    /// Throws ``StoreError/missing(path:)`` when the database does not exist and `create` is false,
    /// ``StoreError/notADatabase(path:reason:)`` for a damaged file and ``StoreError/newerSchema(path:unknownMigrations:)``
    /// for a database from a newer Slipway; none of them touch the file.
    public init(directory: String, create: Bool = true) throws(StoreError) {
        let path = directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName
        self.path = path
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard create else { throw .missing(path: path) }
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .io(path: path, reason: "cannot create the state directory: \(error.localizedDescription)")
            }
        }
        do {
            var configuration = Configuration()
            configuration.label = "slipway.events"
            configuration.busyMode = .timeout(5)
            // Readers never write: no journal-mode switch, no migration racing the controller's own.
            configuration.readonly = !create
            // Check the file before GRDB's pool switches it to WAL, which would write to it.
            try Self.checkReadable(path: path)
            let pool = try DatabasePool(path: path, configuration: configuration)
            if create {
                try Self.prepare(pool, path: path)
            } else {
                try Self.checkSchema(pool, path: path)
            }
            self.writer = pool
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// An empty log in memory, for tests.
    public init() {
        self.path = ":memory:"
        let queue = try! DatabaseQueue()
        try! Self.migrator.migrate(queue)
        self.writer = queue
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.create(table: "event") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .double).notNull()
                table.column("app", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("instance", .text)
                table.column("payload", .text).notNull()
            }
            try db.create(index: "event_app_id", on: "event", columns: ["app", "id"])
        }
        migrator.registerMigration("v2-traffic-hours") { db in
            // Requests per app and clock hour, as the proxy counted them: the basis of suggested deploy times.
            try db.create(table: "traffic_hour") { table in
                table.column("app", .text).notNull()
                table.column("hour", .integer).notNull()
                table.column("requests", .integer).notNull()
                table.primaryKey(["app", "hour"])
            }
        }
        migrator.registerMigration("v3-rollout-evidence") { db in
            // A rollout's traffic per version over time, and its failed requests: what its report charts and lists.
            try db.create(table: "rollout_point") { table in
                table.column("app", .text).notNull()
                table.column("rollout", .integer).notNull()
                table.column("time", .double).notNull()
                table.column("version", .text).notNull()
                table.column("seconds", .double).notNull()
                table.column("requests", .integer).notNull()
                table.column("errors", .integer).notNull()
                table.column("p99_ms", .double)
                table.primaryKey(["app", "rollout", "time", "version"])
            }
            try db.create(table: "failed_request") { table in
                table.column("app", .text).notNull()
                table.column("rollout", .integer).notNull()
                table.column("time_ns", .integer).notNull()
                table.column("version", .text).notNull()
                table.column("instance", .text).notNull()
                table.column("method", .text).notNull()
                table.column("path", .text).notNull()
                table.column("status", .integer).notNull()
                table.column("latency_ms", .double).notNull()
                table.column("request_id", .text).notNull()
                table.column("proxy_error", .text)
                table.primaryKey(["app", "rollout", "time_ns", "instance", "request_id"])
            }
        }
        return migrator
    }

    private static func prepare(_ writer: some DatabaseWriter, path: String) throws {
        let migrator = Self.migrator
        let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
        if superseded {
            let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
            let unknown = applied.subtracting(migrator.migrations).sorted()
            throw StoreError.newerSchema(path: path, unknownMigrations: unknown)
        }
        try migrator.migrate(writer)
    }

    /// For readers: the schema must be one this Slipway knows, and complete.
    private static func checkSchema(_ reader: some DatabaseReader, path: String) throws {
        let migrator = Self.migrator
        let (superseded, complete, applied) = try reader.read { db in
            guard try db.tableExists("grdb_migrations") else { return (false, false, Set<String>()) }
            return (
                try migrator.hasBeenSuperseded(db), try migrator.hasCompletedMigrations(db),
                try migrator.appliedIdentifiers(db)
            )
        }
        if superseded {
            throw StoreError.newerSchema(
                path: path,
                unknownMigrations: applied.subtracting(migrator.migrations).sorted()
            )
        }
        // A controller that is creating the database right now: nothing to read yet.
        if !complete { throw StoreError.missing(path: path) }
    }

    private static func checkReadable(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.io(path: path, reason: "cannot be read")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        // An empty file is a database that was never written; SQLite accepts it.
        if !header.isEmpty, header != Data("SQLite format 3\0".utf8) {
            throw StoreError.notADatabase(path: path, reason: "file is not a database")
        }
    }

    private static func storeError(_ error: any Error, path: String) -> StoreError {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return .notADatabase(path: path, reason: error.message ?? "\(error.resultCode)")
            default:
                return .io(path: path, reason: error.message ?? "\(error.resultCode)")
            }
        }
        return .io(path: path, reason: String(describing: error))
    }

    /// Appends events in one transaction, stamped with `time`, and returns them as recorded.
    @discardableResult
    public func append(_ events: [Event], at time: Date = Date()) throws(StoreError) -> [RecordedEvent] {
        guard !events.isEmpty else { return [] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // What is returned is what readers will read back: the time as stored, the fields as decoded.
        let stored = Date(timeIntervalSince1970: time.timeIntervalSince1970)
        do {
            return try writer.write { db in
                var recorded: [RecordedEvent] = []
                for event in events {
                    let data = try encoder.encode(event.fields)
                    let payload = String(decoding: data, as: UTF8.self)
                    try db.execute(
                        sql: "INSERT INTO event (time, app, kind, instance, payload) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            time.timeIntervalSince1970, event.app, event.kind.rawValue, event.instance?.rawValue,
                            payload,
                        ]
                    )
                    var readBack = event
                    readBack.fields = try JSONDecoder().decode([String: JSONValue].self, from: data)
                    recorded.append(RecordedEvent(id: db.lastInsertedRowID, time: stored, event: readBack))
                }
                return recorded
            }
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Events in log order, optionally of one app, after position `after`, at most `limit`.
    public func events(app: String? = nil, after: Int64 = 0, limit: Int = 10_000) throws(StoreError) -> [RecordedEvent]
    {
        try page(app: app, "id > ?", after, order: "ASC", limit: limit)
    }

    /// Events of the given kinds, of every app, in log order, after position `after`, at most `limit`. Reads the
    /// whole log (there is no index by kind): for a controller's start, not for a request.
    public func events(kinds: Set<EventKind>, after: Int64 = 0, limit: Int = .max) throws(StoreError) -> [RecordedEvent]
    {
        guard !kinds.isEmpty else { return [] }
        do {
            return try writer.read { db in
                let marks = Array(repeating: "?", count: kinds.count).joined(separator: ", ")
                var arguments: StatementArguments = [after]
                for kind in kinds.map(\.rawValue).sorted() { arguments += [kind] }
                arguments += [limit]
                return try Row.fetchAll(
                    db,
                    sql: "SELECT id, time, app, kind, instance, payload FROM event WHERE id > ? AND kind IN (\(marks)) "
                        + "ORDER BY id ASC LIMIT ?",
                    arguments: arguments
                ).map(Self.decode)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Events below position `before` (all when nil), optionally of one app, newest first, at most `limit`: pages
    /// backwards through the log with one indexed query each.
    public func events(app: String? = nil, before: Int64?, limit: Int) throws(StoreError) -> [RecordedEvent] {
        try page(app: app, "id < ?", before ?? Int64.max, order: "DESC", limit: limit)
    }

    /// One page of events: those whose id satisfies `condition` with `bound`, optionally of one app, in id `order`.
    private func page(
        app: String?,
        _ condition: String,
        _ bound: Int64,
        order: String,
        limit: Int
    ) throws(StoreError) -> [RecordedEvent] {
        do {
            return try writer.read { db in
                var sql = "SELECT id, time, app, kind, instance, payload FROM event WHERE \(condition)"
                var arguments: StatementArguments = [bound]
                if let app {
                    sql += " AND app = ?"
                    arguments += [app]
                }
                sql += " ORDER BY id \(order) LIMIT ?"
                arguments += [limit]
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decode)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// The newest `limit` events of `app`, oldest first.
    public func latestEvents(app: String, limit: Int) throws(StoreError) -> [RecordedEvent] {
        do {
            return try writer.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, time, app, kind, instance, payload FROM event WHERE app = ?
                        ORDER BY id DESC LIMIT ?
                        """,
                    arguments: [app, limit]
                )
                return try rows.map(Self.decode).reversed()
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// The names of every app that has events.
    public func apps() throws(StoreError) -> [String] {
        do {
            return try writer.read { db in
                try String.fetchAll(db, sql: "SELECT DISTINCT app FROM event WHERE app != '' ORDER BY app")
            }
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// The highest instance number ever used by `app`, or 0.
    public func highestInstanceNumber(app: String) throws(StoreError) -> Int {
        do {
            let ids = try writer.read { db in
                try String.fetchAll(
                    db,
                    sql: "SELECT DISTINCT instance FROM event WHERE app = ? AND instance IS NOT NULL",
                    arguments: [app]
                )
            }
            return ids.compactMap { InstanceID($0).number }.max() ?? 0
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    private static func decode(_ row: Row) throws -> RecordedEvent {
        let kindText: String = row["kind"]
        guard let kind = EventKind(rawValue: kindText) else {
            throw StoreError.io(path: "", reason: "unknown event kind \"\(kindText)\" at id \(row["id"] as Int64)")
        }
        let payload: String = row["payload"]
        let fields = try JSONDecoder().decode([String: JSONValue].self, from: Data(payload.utf8))
        let instance: String? = row["instance"]
        return RecordedEvent(
            id: row["id"],
            time: Date(timeIntervalSince1970: row["time"]),
            event: Event(app: row["app"], kind: kind, instance: instance.map(InstanceID.init), fields: fields)
        )
    }
}
