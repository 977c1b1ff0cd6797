import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// `restart.every` under load, with `python3 -m http.server` as the app: every instance is replaced, one at a
    /// time, by a restart recorded as scheduled, and no request fails.
    @Suite struct ScheduledRestartLiveTests {
        @Test func instancesAreReplacedOnScheduleWithoutAFailedRequest() async throws {
            let site = try LiveService.staticSite("slipway-restart-site")
            let service = try LiveService(
                app: """
                    instances: 2
                    version: "1.0.0"
                    run:
                      command: \(LiveService.httpServerCommand(site: site))
                    health:
                      path: /
                      interval: 300ms
                      timeout: 250ms
                      healthyThreshold: 1
                      startDeadline: 15s
                    restart:
                      every: 12s
                    """,
                prefix: "slipway-restart"
            )
            let left = try await service.running { try await run($0) }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        private func run(_ service: LiveService) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let first = Set(try #require(try service.status()).instances.map(\.id))
            let load = LoadClient(port: service.listen, rate: 100, threads: 2)
            try await waitUntil("a scheduled restart is promoted", timeout: .seconds(45)) {
                let rollout = try service.status()?.rollout
                return rollout?.by.hasPrefix("scheduled restart") == true && rollout?.outcome == "promoted"
            }
            let rollout = try #require(try service.status()?.rollout)
            #expect(rollout.by == "scheduled restart (every 12s)")
            let now = Set(try #require(try service.status()).instances.map(\.id))
            #expect(now.isDisjoint(with: first), "before \(first), after \(now)")
            // Not due again before its time.
            try await Task.sleep(for: .seconds(3))
            #expect(try service.status()?.rollout?.number == rollout.number)
            await load.stop()
            #expect(load.all.count > 300)
            #expect(load.failed.isEmpty, "\(load.failed.count) of \(load.all.count) failed")
        }
    }
}
