import Foundation
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// The `slipway-dataplane` executable: serving alone from its saved routes, refusing unusable state loudly, stopping
/// cleanly, and handing its listeners to a newer process under load.
@Suite(.serialized) struct DataPlaneProcessTests {
    @Test func aKilledDataPlaneStartedAgainServesItsSavedRoutesAlone() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let first = try DataPlaneProcessRun(stateDirectory: directory, label: "first")
        _ = try await first.waitUntilReady()
        let client = DataPlaneClient(path: first.paths.socket)
        try await client.connect()
        let port = try await client.open("shop", loopbackListener)
        let spec = route("v1", to: upstream, id: "a-1")
        try await client.setRoutes("shop", spec)
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        await client.disconnect()

        first.send(SIGKILL)
        #expect(await first.waitForExit(timeout: .seconds(5)) == nil)
        #expect(first.process.terminationReason == .uncaughtSignal)
        #expect(!processExists(first.pid))
        #expect(!LoopbackHTTP.isAccepting(port: port))
        #expect(FileManager.default.fileExists(atPath: first.paths.routes))

        // Started again with nobody to tell it anything: the saved routes are all it has.
        let second = try DataPlaneProcessRun(stateDirectory: directory, label: "second")
        var servedAfter: Duration?
        while ContinuousClock.now < second.launched + .seconds(5), second.process.isRunning {
            if let answer = try? await loopbackGet(port: port, "/"), answer.status == 200, answer.body == "a\n" {
                servedAfter = ContinuousClock.now - second.launched
                break
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let took = try #require(servedAfter, "never served the saved routes: \(second.standardError)")
        // How soon is for bench/controller-kill to measure; here it is enough that it served within the 5 s above.
        print("slipway-dataplane started again: served port \(port) with its saved routes \(took) after starting")
        _ = try await second.waitUntilReady()
        let fresh = DataPlaneClient(path: second.paths.socket)
        #expect(try await fresh.routes("shop") == spec)
        #expect(try await fresh.status().listeners["shop"]?.port == port)
        await fresh.disconnect()

        #expect(await second.stop())
        #expect(!processExists(second.pid))
        removeDirectory(directory)
        try await upstream.stop()
    }

    @Test func aCorruptRouteFileIsReportedAndNothingIsServedUntilRoutesAreSet() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let paths = DataPlanePaths(stateDirectory: directory)
        let port = try LoopbackHTTP.freePort()
        var state = DataPlaneState()
        state.listeners["shop"] = DataPlaneState.Listener(
            listen: ListenerSpec(host: "127.0.0.1", port: port, settings: ProxySettings()),
            routes: route("v1", to: upstream, id: "a-1")
        )
        // A file cut off halfway through.
        let whole = try JSONEncoder().encode(state)
        let corrupt = String(decoding: whole.prefix(whole.count / 2), as: UTF8.self)
        try corrupt.write(toFile: paths.routes, atomically: false, encoding: .utf8)

        let run = try DataPlaneProcessRun(stateDirectory: directory, label: "dataplane")
        let greeting = try await run.waitUntilReady()
        #expect(greeting.listeners.isEmpty)
        #expect(run.standardError.contains("route state \(paths.routes) is unusable"), "\(run.standardError)")
        #expect(run.standardError.contains("serving nothing until a controller sets routes"))
        #expect(!LoopbackHTTP.isAccepting(port: port))
        // Left as it was for a person to look at, until routes are set.
        #expect(fileText(paths.routes) == corrupt)

        let client = DataPlaneClient(path: paths.socket)
        let spec = ListenerSpec(host: "127.0.0.1", port: port, settings: ProxySettings())
        #expect(try await client.open("shop", spec) == port)
        try await client.setRoutes("shop", route("v1", to: upstream, id: "a-1"))
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        #expect(try DataPlaneState.load(paths.routes).listeners["shop"]?.listen.port == port)
        await client.disconnect()

        #expect(await run.stop())
        #expect(!processExists(run.pid))
        removeDirectory(directory)
        try await upstream.stop()
    }

    @Test func unusableSavedRoutesLeaveTheListenerAnswering503() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let paths = DataPlanePaths(stateDirectory: directory)
        let port = try LoopbackHTTP.freePort()
        var unusable = route("v1", to: upstream, id: "a-1")
        unusable.stickiness = "bogus"
        var state = DataPlaneState()
        state.listeners["shop"] = DataPlaneState.Listener(
            listen: ListenerSpec(host: "127.0.0.1", port: port, settings: ProxySettings()),
            routes: unusable
        )
        try state.save(paths.routes)

        let run = try DataPlaneProcessRun(stateDirectory: directory, label: "dataplane")
        let greeting = try await run.waitUntilReady()
        #expect(greeting.listeners["shop"]?.port == port)
        let answer = try await loopbackGet(port: port, "/")
        #expect(answer.status == 503)
        #expect(answer.headers["retry-after"] == "1")
        #expect(upstream.requestCount == 0)
        let errors = run.standardError
        #expect(errors.contains("routes of shop"), "\(errors)")
        #expect(errors.contains("stickiness: \"bogus\""), "\(errors)")
        #expect(errors.contains("answering 503 until a controller sets routes"), "\(errors)")

        let client = DataPlaneClient(path: paths.socket)
        #expect(try await client.routes("shop") == .empty)
        try await client.setRoutes("shop", route("v1", to: upstream, id: "a-1"))
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        await client.disconnect()

        #expect(await run.stop())
        #expect(!processExists(run.pid))
        removeDirectory(directory)
        try await upstream.stop()
    }

    @Test func sigtermFinishesRequestsInFlightThenRemovesItsFilesAndExits0() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let run = try DataPlaneProcessRun(stateDirectory: directory, label: "dataplane")
        _ = try await run.waitUntilReady()
        let client = DataPlaneClient(path: run.paths.socket)
        let port = try await client.open("shop", loopbackListener)
        try await client.setRoutes("shop", route("v1", to: upstream, id: "a-1"))
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        #expect(FileManager.default.fileExists(atPath: run.paths.routes))
        #expect(FileManager.default.fileExists(atPath: run.paths.pid))

        let slow = Task { try await loopbackGet(port: port, "/slow?ms=600") }
        try await waitUntil("the slow request in flight", timeout: .seconds(5)) {
            try await client.sample("shop").versions["v1"]?.inFlight == 1
        }
        await client.disconnect()
        run.send(SIGTERM)
        #expect(await run.waitForExit(timeout: .seconds(5)) == 0)
        #expect(try await slow.value.status == 200)
        #expect(!processExists(run.pid))
        #expect(!FileManager.default.fileExists(atPath: run.paths.pid))
        #expect(!FileManager.default.fileExists(atPath: run.paths.routes))
        #expect(!LoopbackHTTP.isAccepting(port: port))

        #expect(await run.stop())
        removeDirectory(directory)
        try await upstream.stop()
    }

    @Test func aTakeOverUnderKeepAliveLoadLosesNoRequest() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let old = try DataPlaneProcessRun(stateDirectory: directory, label: "old")
        _ = try await old.waitUntilReady()
        let client = DataPlaneClient(path: old.paths.socket)
        let port = try await client.open("shop", loopbackListener)
        // Slow requests get a lane of their own, so the test can see the one it sent in flight.
        let spec = RouteSpec(
            versions: [
                .init(
                    version: "v1",
                    weight: 10_000,
                    instances: [.init(id: "a-1", host: "127.0.0.1", port: upstream.port)]
                ),
                .init(
                    version: "slow",
                    weight: 0,
                    instances: [.init(id: "s-1", host: "127.0.0.1", port: upstream.port)]
                ),
            ],
            rules: [.init(kind: "header", name: "x-lane", value: "slow", version: "slow")]
        )
        try await client.setRoutes("shop", spec)

        let workers = 4
        let load = KeepAliveLoad(port: port, workers: workers)
        try await load.waitForMore(100)
        let slow = Task { try await loopbackGet(port: port, "/slow?ms=2000", headers: [("x-lane", "slow")]) }
        try await waitUntil("the slow request in flight", timeout: .seconds(5)) {
            try await client.sample("shop").versions["slow"]?.inFlight == 1
        }

        let new = try DataPlaneProcessRun(stateDirectory: directory, takeOver: true, label: "new")
        let greeting = try await new.waitUntilReady()
        let tookOver = ContinuousClock.now - new.launched
        #expect(greeting.listeners["shop"]?.port == port)
        #expect(new.recordedPid == new.pid)
        // The routes came with the sockets: a client that never set anything reads them from the new process.
        let fresh = DataPlaneClient(path: new.paths.socket)
        #expect(try await fresh.routes("shop") == spec)
        await fresh.disconnect()

        // The old process finishes its open connections, the slow one included, and exits.
        #expect(await old.waitForExit(timeout: .seconds(10)) == 0, "\(old.standardError)")
        let oldGone = ContinuousClock.now - new.launched
        #expect(!processExists(old.pid))
        let slowAnswer = try await slow.value
        #expect(slowAnswer.status == 200)
        #expect(slowAnswer.body == "slow\n")

        try await load.waitForMore(100)
        #expect(await load.stop())
        print(
            "slipway-dataplane take-over: new process ready \(tookOver) after starting, old one gone after \(oldGone); "
                + "\(load.successes) requests served, \(load.failures) failed, \(load.resets) reset, "
                + "\(load.connections) connections"
        )
        #expect(load.failures == 0, "\(load.problems)")
        #expect(load.resets == 0, "\(load.problems)")
        // Every connection the old process had was ended cleanly and opened again.
        #expect(load.connections >= 2 * workers)
        #expect(new.recordedPid == new.pid)
        #expect(try DataPlaneState.load(new.paths.routes).listeners["shop"]?.routes == spec)

        await client.disconnect()

        #expect(await new.stop())
        #expect(!processExists(new.pid))
        #expect(await old.stop())
        removeDirectory(directory)
        try await upstream.stop()
    }

    @Test func theControlSocketReachesTheNewDataPlaneOnceTheOldOneHasExited() async throws {
        let upstream = try await FixtureUpstream.start(name: "a")
        let directory = try makeShortDirectory()
        let old = try DataPlaneProcessRun(stateDirectory: directory, label: "old")
        _ = try await old.waitUntilReady()
        let client = DataPlaneClient(path: old.paths.socket)
        let port = try await client.open("shop", loopbackListener)
        let spec = route("v1", to: upstream, id: "a-1")
        try await client.setRoutes("shop", spec)

        let new = try DataPlaneProcessRun(stateDirectory: directory, takeOver: true, label: "new")
        _ = try await new.waitUntilReady()
        #expect(await old.waitForExit(timeout: .seconds(10)) == 0, "\(old.standardError)")
        #expect(!processExists(old.pid))
        #expect(try await loopbackGet(port: port, "/").body == "a\n")

        // The socket path is the new process's now; the old one going must not take it along.
        #expect(FileManager.default.fileExists(atPath: new.paths.socket))
        let fresh = DataPlaneClient(path: new.paths.socket)
        let greeting = try? await fresh.connect()
        #expect(greeting?.pid == new.pid)
        await fresh.disconnect()
        // The client of the old process finds the new one and sets what it had set.
        try await waitUntil("the old client to notice", timeout: .seconds(5)) { await !client.isConnected }
        let replayed = try? await client.routes("shop")
        #expect(replayed == spec)
        #expect(await client.greeting?.pid == new.pid)
        await client.disconnect()

        #expect(await new.stop())
        #expect(!processExists(new.pid))
        #expect(await old.stop())
        removeDirectory(directory)
        try await upstream.stop()
    }
}
