import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// A canary's chaos step on real processes: the demo app calls its dependency, `python3 -m http.server`, through
    /// Slipway's proxy; the step makes 70% of the dependency's requests 400 ms slow for both versions. A candidate
    /// that keeps its 100 ms timeout passes; an identical one that lost it fails, and the fault goes with the rollback.
    @Suite struct ChaosStepRolloutTests {
        @Test func aCandidateThatLostItsTimeoutFailsTheChaosStepWhileAnIdenticalHealthyOnePasses() async throws {
            let site = try LiveService.staticSite("slipway-chaos-step-site", body: "{\"items\": []}\n")
            let dependency = try LoopbackHTTP.freePort()
            let service = try LiveService(
                app: LiveService.demoApp(
                    instances: 2,
                    extra: """
                        strategy:
                          canary:
                            steps:
                              - weight: 50
                              - chaos:
                                  app: api
                                  fault: {kind: delay, delay: 400ms, share: 70%}
                                  before: 8s
                                  duration: 10s
                        analysis:
                          interval: 1s
                        """.indented(4),
                    env: """
                        DEMO_DEPENDENCY: http://127.0.0.1:\(dependency)/
                        DEMO_DEPENDENCY_TIMEOUT: 100ms
                        """
                ),
                otherApps: """
                    - name: api
                      listen: 127.0.0.1:\(dependency)
                      instances: 1
                      version: "1"
                      run:
                        command: \(LiveService.httpServerCommand(site: site))
                      health:
                        path: /
                        interval: 500ms
                        healthyThreshold: 1
                        startDeadline: 15s
                    """,
                prefix: "slipway-chaos-step"
            )
            let left = try await service.running { try await run($0) }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        private func run(_ service: LiveService) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            // Slow answers hold a thread each: enough threads that 400 ms do not throttle the load.
            let load = LoadClient(port: service.listen, rate: 100, threads: 24, path: "/")
            await load.waitFor(100)

            // The same release again: as resilient as stable, it passes the step and is promoted.
            var deploy = try await service.slipway(["deploy", "shop", "--version", "2.0.0"])
            #expect(deploy.status == 0, "\(deploy.stderr)")
            var state = try await service.waitForRolloutEnd(timeout: .seconds(90))
            let wentBack = try service.events(.rolloutRollingBack).last?.fields ?? [:]
            #expect(state == "promoted", "\(wentBack)")
            let passed = try service.events(.analysisJudged).filter { $0.fields["analysis"] == "chaos" }
            #expect(passed.last?.fields["verdict"] == "pass", "\(passed.last?.fields ?? [:])")
            #expect(passed.contains { $0.fields["phase"] == "fault" })

            // The same code without its timeout: it waits out every slow answer of the dependency.
            deploy = try await service.slipway(
                ["deploy", "shop", "--version", "3.0.0", "--env", "DEMO_DEPENDENCY_TIMEOUT="]
            )
            #expect(deploy.status == 0, "\(deploy.stderr)")
            state = try await service.waitForRolloutEnd(timeout: .seconds(90))
            await load.stop()
            #expect(state == "rolledBack")
            let rollingBack = try #require(try service.events(.rolloutRollingBack).last)
            let reason = rollingBack.fields["reason"]?.stringValue ?? ""
            #expect(reason.contains("the chaos step found 3.0.0 less resilient than 2.0.0"), "\(reason)")
            #expect(reason.contains("candidate's p"), "\(reason)")

            // Every fault the steps added is gone, each removed by its rollout, none by expiry.
            let log = try EventLog(directory: service.directory + "/state", create: false)
            let added = try log.events(app: "api", limit: .max).filter { $0.kind == .faultAdded }
            let removed = try log.events(app: "api", limit: .max).filter { $0.kind == .faultRemoved }
            #expect(added.count == 2)
            #expect(added.allSatisfy { $0.fields["owner"]?.stringValue?.hasPrefix("rollout shop #") == true })
            #expect(removed.count == 2)
            #expect(removed.allSatisfy { $0.fields["reason"] == "theChaosStepEnded" }, "\(removed.map(\.fields))")
            let status = try await service.slipway(["chaos", "status"])
            #expect(status.stdout.contains("no fault in force"), "\(status.stdout)")

            // Users of the resilient versions never waited out the dependency: the slow ones were 3.0.0's.
            #expect(load.failed.isEmpty, "\(load.failed.count) failed requests")
        }
    }
}
