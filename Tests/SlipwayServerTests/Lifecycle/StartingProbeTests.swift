import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// An instance that starts slowly is seen healthy as soon as it answers, not a whole health interval later.
    @Suite struct StartingProbeTests {
        @Test func aSlowStartIsSeenWhenItEndsWhateverTheInterval() async throws {
            let service = try LiveService(
                app: """
                    instances: 1
                    version: "1.0.0"
                    run:
                      command: [\(BuiltProducts.path("slipway-demo-app")), --port, "{port}", --startup-delay, 700ms]
                    health:
                      path: /healthz
                      interval: 60s
                      timeout: 200ms
                      healthyThreshold: 1
                      startDeadline: 30s
                    """
            )
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 1)
            let healthy = try #require(try service.events(.instanceHealthy).first)
            let startup = try #require(healthy.fields["startupMs"]?.intValue)
            // Probed every 250 ms until healthy: about 700 ms, far from the 60 s interval.
            #expect(startup >= 700 && startup < 10_000, "healthy \(startup) ms after starting")
        }
    }
}
