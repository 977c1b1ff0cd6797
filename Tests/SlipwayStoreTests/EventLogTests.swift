import Foundation
import GRDB
import SlipwayCore
import Testing

@testable import SlipwayStore

@Suite struct EventLogTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func eventsSurviveReopening() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let time = Date(timeIntervalSince1970: 1_800_000_000.25)
        do {
            let log = try EventLog(directory: directory)
            let recorded = try log.append(
                [
                    Event(app: "shop", kind: .controllerStarted, fields: ["version": "1.0.0", "instances": 3]),
                    Event(
                        app: "shop",
                        kind: .instanceStarted,
                        instance: InstanceID("shop-1"),
                        fields: ["pid": 4242, "port": 40_001, "version": "1.0.0"]
                    ),
                ],
                at: time
            )
            #expect(recorded.map(\.id) == [1, 2])
        }
        let reopened = try EventLog(directory: directory)
        let events = try reopened.events(app: "shop")
        #expect(events.count == 2)
        #expect(events[1].instance == InstanceID("shop-1"))
        #expect(events[1].fields["pid"] == 4242)
        #expect(events[1].time == time)
        #expect(try reopened.highestInstanceNumber(app: "shop") == 1)
        #expect(try reopened.apps() == ["shop"])
        // WAL mode, so status readers never block the controller.
        let mode = try DatabaseQueue(path: directory + "/slipway.sqlite").read {
            try String.fetchOne($0, sql: "PRAGMA journal_mode")
        }
        #expect(mode == "wal")
    }

    @Test func filtersByAppAndPosition() throws {
        let log = EventLog()
        for index in 0..<10 {
            try log.append([Event(app: index.isMultiple(of: 2) ? "a" : "b", kind: .instanceHealthy)])
        }
        #expect(try log.events(app: "a").count == 5)
        #expect(try log.events(after: 7).map(\.id) == [8, 9, 10])
        #expect(try log.events(limit: 3).map(\.id) == [1, 2, 3])
        #expect(try log.latestEvents(app: "b", limit: 2).map(\.id) == [8, 10])
    }

    @Test func aFileThatIsNotADatabaseIsReportedAndLeftUntouched() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/slipway.sqlite"
        let garbage = Data(repeating: 0x42, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.notADatabase(path: path, reason: "file is not a database")) {
            try EventLog(directory: directory)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aDamagedDatabaseIsReportedAndLeftUntouched() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let log = try EventLog(directory: directory)
            try log.append([Event(app: "shop", kind: .instanceHealthy)])
        }
        let path = directory + "/slipway.sqlite"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // Keep the header, wreck the schema page.
        for index in 100..<min(bytes.count, 4096) { bytes[index] = 0xFF }
        try bytes.write(to: URL(fileURLWithPath: path))
        var thrown: StoreError?
        do { _ = try EventLog(directory: directory) } catch { thrown = error }
        guard case .notADatabase(let reportedPath, _) = thrown else {
            Issue.record("expected notADatabase, got \(String(describing: thrown))")
            return
        }
        #expect(reportedPath == path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func aNewerSchemaIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do { _ = try EventLog(directory: directory) }
        let path = directory + "/slipway.sqlite"
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9-future')")
        }
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v9-future"])) {
            try EventLog(directory: directory)
        }
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v9-future"])) {
            try EventLog(directory: directory, create: false)
        }
    }

    @Test func readersSeeTheWritersEventsWithoutWriting() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try EventLog(directory: directory)
        try writer.append([Event(app: "shop", kind: .instanceHealthy, instance: InstanceID("shop-1"))])
        let reader = try EventLog(directory: directory, create: false)
        #expect(try reader.events().map(\.instance) == [InstanceID("shop-1")])
        try writer.append([Event(app: "shop", kind: .instanceUnhealthy, instance: InstanceID("shop-1"))])
        #expect(try reader.events().count == 2)
        #expect(throws: StoreError.self) {
            try reader.append([Event(app: "shop", kind: .instanceHealthy)])
        }
    }

    @Test func aReaderOfADatabaseBeingCreatedSeesNoStateYet() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/slipway.sqlite"
        // The file exists but the controller has not migrated it yet.
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE unrelated (x)") }
        #expect(throws: StoreError.missing(path: path)) {
            try EventLog(directory: directory, create: false)
        }
    }

    @Test func aMissingDatabaseIsNotCreatedForReaders() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: StoreError.missing(path: directory + "/slipway.sqlite")) {
            try EventLog(directory: directory, create: false)
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/slipway.sqlite"))
    }
}
