import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Synchronization
import Testing

/// `slipway up` serving its apps' traffic through its own proxy.
@Suite(.serialized) struct ControllerProxyTests {
    @Test func servesTrafficAndReplacesAKilledInstanceWithoutAFailedRequest() async throws {
        let apiPort = try LoopbackHTTP.freePort()
        let fixture = try await ControllerFixture(yaml: ControllerFixture.demoConfig(apiPort: apiPort))
        try await waitUntil("3 healthy instances") { try fixture.status().healthyCount == 3 }
        let port = try #require(fixture.controller.listener(of: "shop")?.port)
        try await waitUntil("all 3 routed") { fixture.controller.listener(of: "shop")?.table.instances.count == 3 }

        let outcomes = Outcomes()
        // Blocking clients on threads of their own, off the cooperative pool the controller runs on.
        let workers = (0..<6).map { _ in
            BlockingWorker {
                while !outcomes.stop.load(ordering: .relaxed) {
                    let response = try? LoopbackHTTP.get(port: port, path: "/")
                    if response?.status == 200, response?.body.contains("\"app\":\"shop\"") == true {
                        outcomes.served.add(1, ordering: .relaxed)
                    } else {
                        outcomes.failed.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let victim = try #require(try fixture.status().instances.first)
        kill(Int32(try #require(victim.pid)), SIGKILL)
        try await waitUntil("a healthy replacement") {
            let status = try fixture.status()
            return status.healthyCount == 3 && !status.instances.contains { $0.id == victim.id }
        }
        try await waitUntil("the replacement routed") {
            fixture.controller.listener(of: "shop")?.table.instances.count == 3
        }
        try await Task.sleep(for: .milliseconds(500))
        outcomes.stop.store(true, ordering: .relaxed)
        for worker in workers { await worker.finished() }

        #expect(outcomes.failed.load(ordering: .relaxed) == 0)
        #expect(outcomes.served.load(ordering: .relaxed) > 50)

        // The proxy's own counters, in Prometheus text on the controller's address.
        let metrics = try LoopbackHTTP.get(port: apiPort, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("# TYPE slipway_proxy_requests_total counter"))
        #expect(metrics.body.contains("slipway_proxy_requests_total{app=\"shop\",version=\"1.0.0\",instance=\"shop-"))
        #expect(try LoopbackHTTP.get(port: apiPort, path: "/healthz").status == 200)

        let sample = try await fixture.controller.sample(app: "shop")
        let served = outcomes.served.load(ordering: .relaxed)
        #expect((sample.versions["1.0.0"]?.requests ?? 0) >= served)
        try await fixture.stop()
        #expect(try fixture.events(.routesChanged).count >= 5)
        #expect(try fixture.events(.instanceDrained).count == 3)
    }

    @Test func aStoppedInstanceIsDrainedBeforeItStops() async throws {
        let demo = BuiltProducts.path("slipway-demo-app")
        let fixture = try await ControllerFixture(
            yaml: ControllerFixture.demoConfig(instances: 1, command: "[\(demo), --fail-health-after, \"2\"]")
        )
        try await waitUntil("a healthy instance") { try fixture.status().healthyCount == 1 }
        let port = try #require(fixture.controller.listener(of: "shop")?.port)
        try await waitUntil("it is routed") { fixture.controller.listener(of: "shop")?.table.instances.count == 1 }
        // Two requests turn its health check bad; a slow third one is in flight while it is taken out.
        #expect(try LoopbackHTTP.get(port: port, path: "/").status == 200)
        #expect(try LoopbackHTTP.get(port: port, path: "/").status == 200)
        let slowResponse = Shared<LoopbackHTTP.Reply?>(nil)
        let slow = BlockingWorker {
            slowResponse.withLock { $0 = try? LoopbackHTTP.get(port: port, path: "/work?ms=1500") }
        }
        try await waitUntil("the instance is taken out of the routes") {
            try !fixture.events(.instanceUnhealthy).isEmpty
        }
        await slow.finished()
        #expect(slowResponse.withLock { $0?.status } == 200)
        try await waitUntil("the drain is recorded") { try !fixture.events(.instanceDrained).isEmpty }
        try await fixture.stop()
        let drained = try #require(try fixture.events(.instanceDrained).first)
        #expect(drained.instance == InstanceID("shop-1"))
        #expect(drained.fields["timedOut"] == false)
    }
}

/// What a load loop saw.
final class Outcomes: Sendable {
    let served = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

/// A value shared between a blocking thread and async code.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) {
        self.value = Mutex(value)
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        value.withLock { body(&$0) }
    }
}

/// Runs blocking work on a thread of its own and lets async code wait for it.
final class BlockingWorker: Sendable {
    private let state = Shared<(finished: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(_ work: @escaping @Sendable () -> Void) {
        let state = self.state
        let thread = Thread {
            work()
            let waiters = state.withLock { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.start()
    }

    func finished() async {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state in
                if !state.finished { state.waiters.append(continuation) }
                return state.finished
            }
            if already { continuation.resume() }
        }
    }
}

extension ControllerProxyTests {
    /// `proxy.accessLog: true`: the app's requests, one JSON line each, in `<stateDir>/logs/<app>/access.log`.
    @Test func theAccessLogIsWrittenUnderTheStateDirectory() async throws {
        let yaml = ControllerFixture.demoConfig(instances: 1).replacingOccurrences(
            of: "    health:\n",
            with: "    proxy: {accessLog: true}\n    health:\n"
        )
        let fixture = try await ControllerFixture(yaml: yaml)
        try await waitUntil("a healthy instance") { try fixture.status().healthyCount == 1 }
        let port = try #require(fixture.controller.listener(of: "shop")?.port)
        try await waitUntil("the instance routed") {
            fixture.controller.listener(of: "shop")?.table.instances.count == 1
        }
        for number in 0..<5 { #expect(try LoopbackHTTP.get(port: port, path: "/?n=\(number)").status == 200) }
        let path = fixture.config.controller.stateDirectory + "/logs/shop/access.log"
        var lines: [Substring] = []
        try await waitUntil("five lines in the access log") {
            lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            return lines.count == 5
        }
        #expect(
            lines.allSatisfy {
                $0.contains(#""app":"shop","version":"1.0.0","instance":"shop-1","method":"GET","path":"/""#)
            }
        )
        try await fixture.stop()
    }
}
