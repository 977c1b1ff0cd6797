import Foundation
import NIOCore
import NIOPosix
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// The in-process ``DataPlane`` driven by ``RouteSpec`` values, on real sockets in front of real upstreams, keeping
/// its state file in a temporary directory.
@Suite(.serialized) struct RouteSpecTests {
    @Test func servesTheRoutedVersionAndFollowsNewRoutes() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        #expect(port > 0)
        // The same spec again keeps the listener it has.
        #expect(try await plane.dataPlane.open("shop", loopbackListener) == port)

        let first = route("v1", to: a, id: "a-1")
        try await plane.dataPlane.setRoutes("shop", first)
        #expect(await plane.dataPlane.routes("shop") == first)
        let answer = try await loopbackGet(port: port, "/")
        #expect(answer.status == 200)
        #expect(answer.body == "a\n")
        #expect(answer.headers["x-fixture-name"] == "a")

        let canary = RouteSpec(
            versions: [
                .init(version: "v1", weight: 10_000, instances: [.init(id: "a-1", host: "127.0.0.1", port: a.port)]),
                .init(version: "v2", weight: 0, instances: [.init(id: "b-1", host: "127.0.0.1", port: b.port)]),
            ],
            rules: [.init(kind: "header", name: "x-canary", value: "yes", version: "v2")]
        )
        try await plane.dataPlane.setRoutes("shop", canary)
        #expect(await plane.dataPlane.routes("shop") == canary)
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        #expect(try await loopbackGet(port: port, "/", headers: [("x-canary", "yes")]).body == "b\n")

        try await plane.dataPlane.setRoutes("shop", route("v2", to: b, id: "b-1"))
        #expect(try await loopbackGet(port: port, "/").body == "b\n")
        let sample = try await plane.dataPlane.sample("shop")
        #expect(sample.versions["v1"]?.requests == 2)
        #expect(sample.versions["v2"]?.requests == 2)
        #expect(sample.instances["b-1"]?.version == "v2")

        try await plane.stop()
        try await a.stop()
        try await b.stop()
    }

    @Test func anInstanceKeptAcrossRouteUpdatesKeepsItsRequestInFlight() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        try await plane.dataPlane.setRoutes("shop", route("v1", to: a, id: "a-1"))

        let slow = Task { try await loopbackGet(port: port, "/slow?ms=1200") }
        try await waitUntil("the slow request in flight to a-1", timeout: .seconds(5)) {
            await plane.instance("a-1")?.inFlight == 1
        }
        let before = try #require(await plane.instance("a-1"))

        // Same id, same address, same version: the very same instance, its request still counted.
        let split = RouteSpec(versions: [
            .init(version: "v1", weight: 5_000, instances: [.init(id: "a-1", host: "127.0.0.1", port: a.port)]),
            .init(version: "v2", weight: 5_000, instances: [.init(id: "b-1", host: "127.0.0.1", port: b.port)]),
        ])
        try await plane.dataPlane.setRoutes("shop", split)
        let after = try #require(await plane.instance("a-1"))
        #expect(after === before)
        #expect(after.inFlight == 1)

        // Taken out and drained: the drain waits for the request that began before both updates.
        try await plane.dataPlane.setRoutes("shop", route("v2", to: b, id: "b-1"))
        let started = ContinuousClock.now
        let busy = try await plane.dataPlane.drain("shop", instances: ["a-1"], timeout: .seconds(5))
        let took = ContinuousClock.now - started
        #expect(busy.isEmpty)
        #expect(took >= .milliseconds(300), "drain returned after \(took)")
        #expect(took < .seconds(3))
        let slowAnswer = try await slow.value
        #expect(slowAnswer.status == 200)
        #expect(slowAnswer.body == "slow\n")
        #expect(try await loopbackGet(port: port, "/").body == "b\n")

        try await plane.stop()
        try await a.stop()
        try await b.stop()
    }

    @Test func drainReturnsTheInstancesStillBusyAtItsTimeout() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        try await plane.dataPlane.setRoutes("shop", route("v1", to: a, id: "a-1"))

        let slow = Task { try await loopbackGet(port: port, "/slow?ms=1500") }
        try await waitUntil("the slow request in flight to a-1", timeout: .seconds(5)) {
            await plane.instance("a-1")?.inFlight == 1
        }
        try await plane.dataPlane.setRoutes("shop", route("v1", to: b, id: "b-1"))
        let started = ContinuousClock.now
        let busy = try await plane.dataPlane.drain("shop", instances: ["a-1"], timeout: .milliseconds(200))
        let took = ContinuousClock.now - started
        #expect(busy == ["a-1"])
        #expect(took >= .milliseconds(200))
        #expect(took < .milliseconds(1_200), "drain took \(took)")
        // An instance the routes still name is not drained.
        #expect(try await plane.dataPlane.drain("shop", instances: ["b-1"], timeout: .seconds(5)).isEmpty)
        await #expect(throws: UnknownListener.self) {
            _ = try await plane.dataPlane.drain("nope", instances: ["a-1"], timeout: .seconds(1))
        }
        // The drain gave up waiting; the request itself goes on to its answer.
        #expect(try await slow.value.status == 200)

        try await plane.stop()
        try await a.stop()
        try await b.stop()
    }

    @Test func anInvalidSpecIsRefusedNamingItsFieldAndTheOldRoutesServeOn() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        let good = route("v1", to: a, id: "a-1")
        try await plane.dataPlane.setRoutes("shop", good)

        let bInstance = RouteSpec.Instance(id: "b-1", host: "127.0.0.1", port: b.port)
        var unknownKind = route("v2", to: b, id: "b-1")
        unknownKind.rules = [.init(kind: "regex", name: "x-user", value: "1", version: "v2")]
        var badStickiness = route("v2", to: b, id: "b-1")
        badStickiness.stickiness = "bogus"
        let badSum = RouteSpec(versions: [
            .init(version: "v1", weight: 6_000, instances: [.init(id: "a-1", host: "127.0.0.1", port: a.port)]),
            .init(version: "v2", weight: 3_000, instances: [bInstance]),
        ])
        let badHost = RouteSpec(versions: [
            .init(version: "v2", weight: 10_000, instances: [.init(id: "b-1", host: "not-an-ip", port: b.port)])
        ])
        let cases: [(RouteSpec, [String])] = [
            (unknownKind, ["rules[0].kind", "\"regex\"", "header, headerPattern, cookie"]),
            (badStickiness, ["stickiness", "\"bogus\"", "cookie:NAME or header:NAME"]),
            (badSum, ["weights add up to 9000", "10000"]),
            (badHost, ["not-an-ip"]),
        ]
        for (spec, phrases) in cases {
            let error = await #expect(throws: (any Error).self) {
                try await plane.dataPlane.setRoutes("shop", spec)
            }
            let message = error.map { String(describing: $0) } ?? ""
            for phrase in phrases {
                #expect(message.contains(phrase), "\(message) should say \(phrase)")
            }
            #expect(await plane.dataPlane.routes("shop") == good)
            #expect(try DataPlaneState.load(plane.stateFile).listeners["shop"]?.routes == good)
            #expect(try await loopbackGet(port: port, "/").body == "a\n")
        }
        #expect(b.requestCount == 0)
        await #expect(throws: UnknownListener.self) { try await plane.dataPlane.setRoutes("nope", good) }

        try await plane.stop()
        try await a.stop()
        try await b.stop()
    }

    @Test func aListenerWithoutRoutesAnswers503WithRetryAfter() async throws {
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        #expect(await plane.dataPlane.routes("shop") == .empty)
        let answer = try await loopbackGet(port: port, "/")
        #expect(answer.status == 503)
        #expect(answer.headers["retry-after"] == "1")
        #expect(answer.body.hasPrefix("service unavailable"))
        let sample = try await plane.dataPlane.sample("shop")
        #expect(sample.unrouted.proxyGenerated[503] == 1)
        try await plane.stop()
    }

    @Test func theStateFileRestoresIntoAFreshDataPlane() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let b = try await FixtureUpstream.start(name: "b")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        let spec = RouteSpec(
            versions: [
                .init(version: "v1", weight: 10_000, instances: [.init(id: "a-1", host: "127.0.0.1", port: a.port)]),
                .init(version: "v2", weight: 0, instances: [.init(id: "b-1", host: "127.0.0.1", port: b.port)]),
            ],
            rules: [.init(kind: "cookie", name: "lane", value: "canary", version: "v2")],
            stickiness: "cookie:sw"
        )
        try await plane.dataPlane.setRoutes("shop", spec)
        let saved = try DataPlaneState.load(plane.stateFile)
        #expect(saved.listeners["shop"]?.listen.port == port)
        #expect(saved.listeners["shop"]?.routes == spec)

        // The first data plane goes away (the file stays); a fresh one on the same file serves what it served.
        await plane.dataPlane.shutdown(within: .seconds(2))
        try await waitUntil("the first data plane's port is closed", timeout: .seconds(2)) {
            !LoopbackHTTP.isAccepting(port: port)
        }
        let fresh = DataPlane(group: plane.group, stateFile: plane.stateFile)
        let problems = await fresh.restore()
        #expect(problems.isEmpty, "\(problems)")
        #expect(await fresh.bound["shop"]?.port == port)
        #expect(await fresh.routes("shop") == spec)
        #expect(try await loopbackGet(port: port, "/").body == "a\n")
        #expect(try await loopbackGet(port: port, "/", headers: [("cookie", "lane=canary")]).body == "b\n")

        await fresh.shutdown(within: .seconds(2))
        try await waitUntil("the fresh data plane's port is closed", timeout: .seconds(2)) {
            !LoopbackHTTP.isAccepting(port: port)
        }
        try await plane.stop()
        try await a.stop()
        try await b.stop()
    }

    @Test func closeRemovesTheListenerFromTheStateFile() async throws {
        let a = try await FixtureUpstream.start(name: "a")
        let plane = try EmbeddedPlane()
        let port = try await plane.dataPlane.open("shop", loopbackListener)
        _ = try await plane.dataPlane.open("shop-preview", loopbackListener)
        try await plane.dataPlane.setRoutes("shop", route("v1", to: a, id: "a-1"))
        #expect(Set(try DataPlaneState.load(plane.stateFile).listeners.keys) == ["shop", "shop-preview"])

        try await plane.dataPlane.close("shop")
        #expect(Array(try DataPlaneState.load(plane.stateFile).listeners.keys) == ["shop-preview"])
        #expect(await plane.dataPlane.routes("shop") == nil)
        #expect(await plane.dataPlane.names == ["shop-preview"])
        #expect(!LoopbackHTTP.isAccepting(port: port))
        // Closing what is not open does nothing.
        try await plane.dataPlane.close("shop")

        try await plane.stop()
        try await a.stop()
    }
}

/// Any free port on 127.0.0.1 with the default settings.
let loopbackListener = ListenerSpec(host: "127.0.0.1", port: 0, settings: ProxySettings())

/// All traffic to one instance of one version.
func route(_ version: String, to upstream: FixtureUpstream, id: String) -> RouteSpec {
    RouteSpec(versions: [
        .init(version: version, weight: 10_000, instances: [.init(id: id, host: "127.0.0.1", port: upstream.port)])
    ])
}

/// A ``DataPlane`` on a one-thread group, its state file in a fresh directory.
final class EmbeddedPlane {
    let directory: String
    let stateFile: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let dataPlane: DataPlane

    init() throws {
        directory = try makeShortDirectory()
        stateFile = directory + "/dataplane.routes.json"
        dataPlane = DataPlane(group: group, stateFile: stateFile)
    }

    /// The instance `id` in the route table of `shop` now.
    func instance(_ id: String) async -> UpstreamInstance? {
        await dataPlane.listener("shop")?.table.instances.first { $0.id == id }
    }

    /// Closes every listener, stops the group and removes the directory.
    func stop() async throws {
        var listeners: [AppListener] = []
        for name in await dataPlane.bound.keys {
            if let listener = await dataPlane.listener(name) { listeners.append(listener) }
        }
        await dataPlane.shutdown(within: .seconds(2))
        // Asked of the sockets themselves: a port, once free, may already be another test's.
        #expect(listeners.allSatisfy { !$0.isListening })
        try await group.shutdownGracefully()
        removeDirectory(directory)
    }
}
