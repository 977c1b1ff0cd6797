import SlipwayConfig
import SlipwayCore
import Synchronization
import Testing

@testable import SlipwayPlatform

/// Placement across places, on platforms that record what they are asked and start nothing.
@Suite("Placed platform")
struct PlacedPlatformTests {
    /// A place that records what it is asked: it "runs" what it started or adopted, and knows references
    /// `<name>:<n>` only.
    final class RecordingPlatform: Platform {
        let name: String
        let exits: AsyncStream<InstanceExit>
        private let continuation: AsyncStream<InstanceExit>.Continuation
        private let state = Mutex<(running: Set<InstanceID>, stopped: [InstanceID], highest: Int)>(([], [], 0))

        init(_ name: String, highest: Int = 0) {
            self.name = name
            (exits, continuation) = AsyncStream.makeStream()
            state.withLock { $0.highest = highest }
        }

        var running: Set<InstanceID> { state.withLock { $0.running } }

        func start(_ request: LaunchRequest) async throws(LaunchError) -> InstanceHandle {
            state.withLock { _ = $0.running.insert(request.instance) }
            return handle(request.instance)
        }

        private func handle(_ id: InstanceID) -> InstanceHandle {
            InstanceHandle(
                id: id,
                reference: "\(name):\(id.rawValue)",
                pid: 1,
                supervisorPid: nil,
                host: name,
                port: 1,
                stdoutLog: "",
                stderrLog: ""
            )
        }

        func stop(_ instance: InstanceID) async {
            guard state.withLock({ $0.running.remove(instance) }) != nil else { return }
            continuation.yield(InstanceExit(id: instance, status: .exited(0), ranFor: .zero, stderrTail: []))
        }

        func adopt(
            _ instance: InstanceID,
            version: String?,
            reference: String,
            host: String,
            port: Int
        ) async -> InstanceHandle? {
            guard reference == "\(name):\(instance.rawValue)" else { return nil }
            state.withLock { _ = $0.running.insert(instance) }
            return handle(instance)
        }

        func reclaim(app: String, keeping known: Set<InstanceID>) async -> Reclaimed {
            let stopped = state.withLock { state in
                let unknown = state.running.filter { $0.app == app && !known.contains($0) }
                state.running.subtract(unknown)
                return unknown.sorted()
            }
            return Reclaimed(stopped: stopped, highestNumber: state.withLock { $0.highest })
        }

        func signal(_ instance: InstanceID, _ signal: Int32) async -> Bool { running.contains(instance) }

        func stderrTail(of instance: InstanceID, lines: Int) async -> [String] { ["\(name) says bye"] }
    }

    private static func request(_ number: Int, version: String, app: String = "shop") -> LaunchRequest {
        LaunchRequest(
            app: app,
            version: version,
            instance: InstanceID(app: app, number: number),
            run: RunSpec(command: ["server"]),
            logs: LogSpec(),
            baseDirectory: "/"
        )
    }

    @Test func instancesSpreadOverTheAppsPlacesAndEachVersionToo() async throws {
        let (a, b, c, here) = (
            RecordingPlatform("a"), RecordingPlatform("b"), RecordingPlatform("c"), RecordingPlatform("here")
        )
        let placed = PlacedPlatform(
            platforms: ["a": a, "b": b, "c": c, PlacedPlatform.thisMachine: here],
            placement: ["shop": ["a", "b", "c"], "blog": [PlacedPlatform.thisMachine]]
        )
        // Six of 1.0, started at once: two on each host.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 1...6 { group.addTask { _ = try await placed.start(Self.request(number, version: "1.0")) } }
            try await group.waitForAll()
        }
        #expect(placed.spread(of: "shop").map(\.instances) == [2, 2, 2])
        // Candidates land on different hosts, even where the app's count is equal.
        let first = try await placed.start(Self.request(7, version: "2.0"))
        await placed.stop(InstanceID(app: "shop", number: 2))  // on b or wherever: one host now runs one fewer
        let second = try await placed.start(Self.request(8, version: "2.0"))
        #expect(first.host != second.host)
        #expect(Set([a, b, c].map { $0.running.count }) == [2, 3])
        // Another app runs where it is placed.
        let blog = try await placed.start(Self.request(1, version: "1.0", app: "blog"))
        #expect(blog.host == "here" && placed.place(of: blog.id) == PlacedPlatform.thisMachine)
    }

    @Test func everythingElseGoesToThePlaceThatRunsTheInstance() async throws {
        let (a, b) = (RecordingPlatform("a"), RecordingPlatform("b", highest: 12))
        let placed = PlacedPlatform(platforms: ["a": a, "b": b], placement: ["shop": ["a", "b"]])
        let one = try await placed.start(Self.request(1, version: "1.0"))
        let two = try await placed.start(Self.request(2, version: "1.0"))
        #expect([one.host, two.host] == ["a", "b"])
        #expect(await placed.signal(two.id, 9))
        var exits = placed.exits.makeAsyncIterator()
        await placed.stop(two.id)
        #expect(await exits.next()?.id == two.id)
        #expect(b.running.isEmpty && a.running == [one.id])
        #expect(placed.place(of: two.id) == nil)
        #expect(await placed.signal(two.id, 9) == false)
        // Logs of an instance that ended are looked for in every place of its app.
        #expect(await placed.stderrTail(of: two.id, lines: 5) == ["a says bye"])

        // After a restart: adopted by the place that knows its reference; reclaimed from every place, with the
        // highest number of all.
        let adopter = PlacedPlatform(
            platforms: ["a": RecordingPlatform("a"), "b": RecordingPlatform("b", highest: 12)],
            placement: ["shop": ["a", "b"]]
        )
        #expect(await adopter.adopt(two.id, version: "1.0", reference: "b:shop-2", host: "b", port: 1)?.host == "b")
        #expect(await adopter.adopt(one.id, version: "1.0", reference: "z:shop-1", host: "z", port: 1) == nil)
        #expect(adopter.place(of: two.id) == "b")
        let reclaimed = await adopter.reclaim(app: "shop", keeping: [one.id])
        #expect(reclaimed == Reclaimed(stopped: [two.id], highestNumber: 12))
    }

    @Test func aPlaceThatCannotBeReachedIsReclaimedOnItsOwnOnceItIs() async throws {
        let (a, b) = (RecordingPlatform("a", highest: 3), RecordingPlatform("b", highest: 12))
        let earlier = PlacedPlatform(platforms: ["a": a, "b": b], placement: ["shop": ["a", "b"]])
        let one = try await earlier.start(Self.request(1, version: "1.0"))
        let two = try await earlier.start(Self.request(2, version: "1.0"))
        #expect([one.host, two.host] == ["a", "b"])

        // A later controller cannot reach b: reclaiming leaves it alone.
        let later = PlacedPlatform(platforms: ["a": a, "b": b], placement: ["shop": ["a", "b"]])
        later.setReachable("b", false)
        #expect(await later.reclaim(app: "shop", keeping: []) == Reclaimed(stopped: [one.id], highestNumber: 3))
        #expect(b.running == [two.id])
        // Once b answers, it is reclaimed on its own; a place the app is not on is not asked.
        #expect(
            await later.reclaim(app: "shop", on: ["b", "c"], keeping: [])
                == Reclaimed(stopped: [two.id], highestNumber: 12)
        )
        #expect(b.running.isEmpty)
    }
}
