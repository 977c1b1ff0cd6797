import Foundation
import NIOPosix
import Synchronization
import Testing

@testable import SlipwayProxy

/// The data plane's state file: what a data plane started again alone comes back with.
@Suite struct DataPlaneStateTests {
    @Test func aMissingFileRestoresNothingWithoutError() async throws {
        let directory = try makeShortDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/dataplane.routes.json"
        #expect(try DataPlaneState.load(path) == DataPlaneState())

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dataPlane = DataPlane(group: group, stateFile: path)
        let problems = await dataPlane.restore()
        #expect(problems.isEmpty)
        #expect(await dataPlane.names.isEmpty)
        try await group.shutdownGracefully()
    }

    @Test func aCorruptFileIsRefusedNamingThePathAndTheReason() async throws {
        let directory = try makeShortDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/dataplane.routes.json"
        let corrupt = "{\"format\":1,\"listeners\":{\"shop\":{\"listen\":{\"host\":\"127.0.0.1\""
        try corrupt.write(toFile: path, atomically: false, encoding: .utf8)

        let error = #expect(throws: DataPlaneState.Unreadable.self) { try DataPlaneState.load(path) }
        #expect(error?.path == path)
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains(path))
        #expect(message.contains("unusable"))
        #expect(message.contains("not a route state file"))

        // A data plane restoring from it serves nothing, says why, and leaves the file for a person to look at.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dataPlane = DataPlane(group: group, stateFile: path)
        let problems = await dataPlane.restore()
        #expect(problems.count == 1)
        #expect(problems.first?.contains(path) == true)
        #expect(problems.first?.contains("serving nothing") == true)
        #expect(await dataPlane.names.isEmpty)
        #expect(fileText(path) == corrupt)
        try await group.shutdownGracefully()
    }

    @Test func aFileOfAnotherFormatIsRefusedNamingBothFormats() throws {
        let directory = try makeShortDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/dataplane.routes.json"
        try "{\"format\":2,\"listeners\":{}}".write(toFile: path, atomically: false, encoding: .utf8)

        let error = #expect(throws: DataPlaneState.Unreadable.self) { try DataPlaneState.load(path) }
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains(path))
        #expect(message.contains("format 2"))
        #expect(message.contains("reads format \(DataPlaneState.format)"))
    }

    @Test func saveIsAtomicAndLeavesNoTemporaryFile() throws {
        let directory = try makeShortDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/dataplane.routes.json"
        var state = DataPlaneState()
        state.listeners["shop"] = DataPlaneState.Listener(
            listen: ListenerSpec(host: "127.0.0.1", port: 18_080, settings: ProxySettings()),
            routes: RouteSpec(versions: [
                .init(version: "v1", weight: 10_000, instances: [.init(id: "shop-1", host: "127.0.0.1", port: 9_001)])
            ])
        )
        try state.save(path)
        #expect(try DataPlaneState.load(path) == state)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["dataplane.routes.json"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        var changed = state
        changed.listeners["shop"]?.routes = .empty
        try changed.save(path)
        #expect(try DataPlaneState.load(path) == changed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["dataplane.routes.json"])

        // A save that cannot write its temporary file fails and leaves the previous file whole.
        let temporary = "\(path).\(getpid()).tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        #expect(throws: (any Error).self) { try state.save(path) }
        try FileManager.default.removeItem(atPath: temporary)
        #expect(try DataPlaneState.load(path) == changed)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["dataplane.routes.json"])
    }

    @Test func aReaderDuringSavesSeesTheOldFileOrTheNewOneNeverAPart() async throws {
        let directory = try makeShortDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/dataplane.routes.json"
        let small = DataPlaneState()
        var large = DataPlaneState()
        for index in 0..<200 {
            large.listeners["app-\(index)"] = DataPlaneState.Listener(
                listen: ListenerSpec(host: "127.0.0.1", port: 20_000 + index, settings: ProxySettings()),
                routes: RouteSpec(versions: [
                    .init(version: "v1", weight: 10_000, instances: [.init(id: "i-\(index)", host: "::1", port: 9_000)])
                ])
            )
        }
        try small.save(path)
        let full = large
        let writing = WritingFlag()
        let writer = Task.detached {
            defer { writing.done.store(true, ordering: .releasing) }
            for round in 0..<150 { try (round.isMultiple(of: 2) ? full : small).save(path) }
        }
        let reads = await onThread { () -> (whole: Int, broken: [String]) in
            var whole = 0
            var broken: [String] = []
            // Until the writer is done, and at most 50,000 reads.
            for _ in 0..<50_000 {
                if writing.done.load(ordering: .acquiring) { break }
                do {
                    let state = try DataPlaneState.load(path)
                    if state == small || state == full { whole += 1 } else { broken.append("another state") }
                } catch {
                    broken.append(String(describing: error))
                }
            }
            return (whole, broken)
        }
        try await writer.value
        #expect(reads.broken.isEmpty, "\(reads.broken.prefix(3))")
        #expect(reads.whole >= 20, "\(reads.whole) reads while saving")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["dataplane.routes.json"])
    }
}

/// Set once every save is done.
private final class WritingFlag: Sendable {
    let done = Atomic<Bool>(false)
}
