import Foundation
import SlipwayEngine
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// A candidate whose first requests are slow: warm-up keeps them away from users.
    @Suite struct WarmUpRolloutTests {
        static let strategy = """
            canary:
              steps:
                - weight: 50
                - pause: 2s
            """
        /// Each new candidate instance answers its first 60 requests 400 ms late.
        static let slowStart = ["DEMO_SLOW_FIRST": "60", "DEMO_SLOW_FIRST_LATENCY": "400ms"]
        /// The p99 users may see during the rollout.
        static let bound = 0.2

        func rolloutP99(warmup: String) async throws -> (p99: Double, failed: Int, warmedUp: Int) {
            let fixture = try await ControllerFixture(
                yaml: ControllerFixture.demoConfig(extra: RolloutConfig.app(strategy: Self.strategy, warmup: warmup))
            )
            try await fixture.waitUntilServing()
            let load = LoadClient(port: fixture.port)
            await load.waitFor(100)
            let deployedAt = Date().timeIntervalSince(load.began)
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: Self.slowStart, by: "test")
            )
            let outcome = try await fixture.waitForOutcome()
            await load.stop()
            #expect(outcome.state == "promoted")
            let warmedUp = try fixture.events(.instanceWarmedUp).count
            try await fixture.stop()
            return (load.latency(quantile: 0.99, since: deployedAt), load.failed.count, warmedUp)
        }

        @Test func warmUpKeepsSlowFirstRequestsAwayFromUsers() async throws {
            let cold = try await rolloutP99(warmup: "")
            let warm = try await rolloutP99(
                warmup: """
                    requests: { paths: [/], count: 80 }
                    concurrency: 4
                    """
            )
            print(
                "warm-up: user p99 during the rollout \(Int(cold.p99 * 1000)) ms without, \(Int(warm.p99 * 1000)) ms with "
                    + "(bound \(Int(Self.bound * 1000)) ms)"
            )
            #expect(cold.p99 > Self.bound)
            #expect(warm.p99 <= Self.bound)
            #expect(cold.warmedUp == 0)
            #expect(warm.warmedUp == 3)
            #expect(cold.failed == 0)
            #expect(warm.failed == 0)
        }
    }
}
