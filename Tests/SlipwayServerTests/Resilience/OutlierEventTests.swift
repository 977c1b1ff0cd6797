import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// What the proxy's outlier detection does reaches the event log, and the health checks look at an ejected
    /// instance at once.
    @Suite struct OutlierEventTests {
        @Test func anEjectionIsAnEventAndTheHealthChecksLookAtOnce() async throws {
            let flag = try makeTemporaryDirectory("slipway-outliers") + "/failing"
            let service = try LiveService(
                app: """
                    instances: 3
                    version: "1.0.0"
                    run:
                      command: \(LiveService.flakyServerCommand(flag: flag))
                    health:
                      path: /
                      interval: 60s
                      timeout: 500ms
                      healthyThreshold: 1
                      unhealthyThreshold: 1
                      startDeadline: 15s
                    proxy:
                      outlierDetection: {interval: 200ms, baseEjectionTime: 1s}
                      retries: {on: [connect-failure, reset, 5xx]}
                    """
            )
            let left = try await service.running { try await run($0, flag: flag) }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        private func run(_ service: LiveService, flag: String) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 3)
            let load = LoadClient(port: service.listen, rate: 200, threads: 4)
            await load.waitFor(200)

            let instance = try #require(service.status()?.instances.first?.id)
            #expect(FileManager.default.createFile(atPath: flag + "-" + instance.rawValue, contents: nil))
            let failingSince = Date()
            try await waitUntil("\(instance) ejected", timeout: .seconds(10)) {
                try service.events(.instanceEjected).contains { $0.instance == instance }
            }
            let ejected = try #require(try service.events(.instanceEjected).first { $0.instance == instance })
            #expect(ejected.fields["reason"]?.stringValue == "5 failed requests in a row")
            #expect(ejected.fields["version"]?.stringValue == "1.0.0")
            #expect(ejected.fields["ejectedForMs"]?.intValue == 1000)
            // Until its probe passes, the status shows it ejected.
            #expect(try service.status()?.instances.first { $0.id == instance }?.ejected == true)
            // Health checks run every minute here: only the ejection makes them look this soon.
            try await waitUntil("\(instance) unhealthy", timeout: .seconds(10)) {
                try service.events(.instanceUnhealthy).contains { $0.instance == instance }
            }
            #expect(Date().timeIntervalSince(failingSince) < 10)
            await load.waitFor(200)
            await load.stop()
            let all = load.all
            #expect(
                Double(load.failed.count) <= Double(all.count) * 0.001,
                "\(load.failed.count) of \(all.count) failed"
            )
        }
    }
}
