import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveRollouts {
    /// `slipway upgrade` under load replaces the controller and the data plane with no failed request and no reset
    /// connection, while a long request in flight completes.
    @Suite struct UpgradeTests {
        @Test func anUpgradeUnderLoadFailsNoRequest() async throws {
            let service = try LiveService(
                app: """
                    instances: 2
                    version: "1.0.0"
                    run:
                      command: [python3, \(Fixtures.path("access-log-server.py"))]
                      stopGracePeriod: 5s
                    health:
                      path: /health
                      interval: 200ms
                      timeout: 150ms
                      startDeadline: 15s
                    """
            )
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let oldDataPlane = try #require(service.dataPlanePid)
            let load = LoadClient(port: service.listen, rate: 220, honourConnectionClose: true)
            await load.waitFor(200)
            let long = Task.detached { try LoopbackHTTP.get(port: service.listen, path: "/work?ms=3000") }
            try await Task.sleep(for: .milliseconds(300))

            let upgrade = try await service.slipway(["upgrade"], seconds: 120)
            #expect(upgrade.status == 0, "upgrade: \(upgrade.stdout) \(upgrade.stderr)")
            let reply = try await long.value
            #expect(reply.status == 200)
            try await waitUntil("the old data plane ends", timeout: .seconds(20)) { !processExists(oldDataPlane) }
            let newDataPlane = try #require(service.dataPlanePid)
            #expect(newDataPlane != oldDataPlane)
            try await waitUntil("the new controller attached to the new data plane", timeout: .seconds(30)) {
                try service.events(.dataPlaneAttached).contains { $0.fields["pid"]?.intValue == Int(newDataPlane) }
            }
            await load.waitFor(200)
            await load.stop()
            // The old data plane's end left the control socket to the new one: nothing started a third.
            #expect(service.dataPlanePid == newDataPlane)
            #expect(try service.events(.dataPlaneStarted).count == 1)
            #expect(
                load.failed.isEmpty,
                "\(load.failed.count) of \(load.all.count) requests failed: \(load.failed.prefix(3))"
            )
            #expect(load.retried == 0, "\(load.retried) keep-alive connections were closed under a request")
            // The instances were never touched: the same two run, adopted by the new controller.
            #expect(try service.events(.instanceStarted).count == 2)
            #expect(try service.status()?.healthyCount == 2)
            print(
                "upgrade: data plane \(oldDataPlane) → \(newDataPlane); \(load.failed.count) of \(load.all.count) "
                    + "requests failed, \(load.retried) retried; the 3 s request answered \(reply.status)"
            )
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }
    }
}
