import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// `slipway chaos run` against real controllers of the demo app under load: the example experiment holds on
    /// three instances with retries, deviates (naming its probe) on a single instance with a short response timeout,
    /// and an interrupted run still rolls back.
    @Suite struct ChaosRunTests {
        /// The example experiment pointed at `listen`, with its pause shortened.
        static func experiment(listen: Int) throws -> String {
            let example = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("examples/chaos-experiment.yaml")
            return try String(contentsOf: example, encoding: .utf8)
                .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(listen)")
        }

        /// Three instances with retries on timeouts; or one alone, checked only every 30 s, whose requests time out
        /// after a second while it is frozen.
        static func service(resilient: Bool) throws -> LiveService {
            if resilient {
                return try LiveService(
                    app: LiveService.demoApp(
                        instances: 3,
                        extra: """
                                proxy:
                                  retries: {on: [connect-failure, reset, timeout], perTryTimeout: 300ms, attempts: 2}
                                  outlierDetection: {interval: 200ms, baseEjectionTime: 3s, consecutiveFailures: 2}
                            """
                    ),
                    prefix: "slipway-chaos-run"
                )
            }
            return try LiveService(
                app: """
                    instances: 1
                    version: "1.0.0"
                    run:
                      command: [\(BuiltProducts.path("slipway-demo-app")), --port, "{port}"]
                    health:
                      path: /healthz
                      interval: 30s
                      healthyThreshold: 1
                      startDeadline: 10s
                    proxy:
                      responseTimeout: 1s
                    """,
                prefix: "slipway-chaos-run"
            )
        }

        @Test(.tags(.heavy)) func theExampleHoldsWithRetriesAndDeviatesWithout() async throws {
            try await HeavyLoad.exclusive {
                for resilient in [true, false] {
                    let service = try Self.service(resilient: resilient)
                    let left = try await service.running { try await run($0, expectHeld: resilient) }
                    #expect(left.isEmpty, "still running after the test: \(left)")
                }
            }
        }

        private func run(_ service: LiveService, expectHeld: Bool) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: expectHeld ? 3 : 1)
            var experiment = try Self.experiment(listen: service.listen)
            if !expectHeld {
                // Without its safeguard, so that the run goes to its end and judges the steady state.
                experiment = experiment.split(separator: "\n").filter { !$0.hasPrefix("safeguard:") }
                    .joined(separator: "\n")
            }
            try experiment.write(
                toFile: service.directory + "/experiment.yaml",
                atomically: true,
                encoding: .utf8
            )
            let load = LoadClient(port: service.listen, rate: 150, threads: 12)
            // The hypothesis looks at the last ten seconds of traffic.
            await load.waitFor(1_500)
            let run = try await service.slipway(
                ["chaos", "run", "experiment.yaml", "--journal", "journal.json"],
                seconds: 60
            )
            await load.stop()
            let journal = try JSONDecoder.journal.decode(
                ChaosJournal.self,
                from: Data(contentsOf: URL(fileURLWithPath: service.directory + "/journal.json"))
            )
            let recorded = try #require(try service.events(.chaosExperimentRan).last)
            #expect(recorded.fields["title"] == "The shop rides out a frozen instance")
            #expect(journal.run.first?.status == "succeeded", "\(journal.run)")
            #expect(try service.events(.chaosKill).count == 1)
            if expectHeld {
                #expect(run.status == 0, "\(run)")
                #expect(run.stdout.contains("the steady state held"), "\(run.stdout)")
                #expect(journal.status == .completed && !journal.deviated)
                #expect(recorded.fields["deviated"] == .bool(false))
            } else {
                #expect(run.status == 1, "\(run)")
                #expect(run.stdout.contains("the steady state DEVIATED: probe"), "\(run.stdout)")
                #expect(run.stdout.contains(#""fewer than 1% of requests fail""#), "\(run.stdout)")
                #expect(journal.deviated && journal.deviation?.contains("fewer than 1%") == true)
                #expect(recorded.fields["deviated"] == .bool(true))
            }
            // Both runs ended with the freeze ended.
            try await waitUntil("the freeze ends", timeout: .seconds(10)) {
                try service.events(.chaosHangEnded).count == 1
            }
        }

        /// An experiment whose method makes `/broken` of app `shop` answer 503, then waits `pause` seconds.
        static func breakingExperiment(title: String, pause: Int) -> String {
            """
            title: \(title)
            method:
              - type: action
                name: break a path
                provider:
                  type: slipway
                  func: add-fault
                  arguments: {app: shop, fault: {kind: abort, status: 503, path: /broken}}
                pauses: {after: \(pause)}
            """
        }

        @Test func anInterruptedRunRemovesItsFaultsAndExitsThree() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1), prefix: "slipway-chaos-int")
            let left = try await service.running { service in
                try service.startController()
                try await service.waitUntilServing(instances: 1)
                let experiment = Self.breakingExperiment(title: "interrupted", pause: 60)
                try experiment.write(toFile: service.directory + "/int.yaml", atomically: true, encoding: .utf8)
                let run = try await SlipwayBinary.run(
                    ["chaos", "run", "int.yaml", "--journal", "int.json", "-f", "slipway.yaml"],
                    in: service.directory,
                    seconds: 5,
                    signal: SIGINT
                )
                #expect(run.status == 3, "\(run)")
                #expect(run.stderr.contains("interrupted: running the rollbacks"), "\(run.stderr)")
                #expect(try service.events(.faultAdded).count == 1)
                let removed = try #require(try service.events(.faultRemoved).first)
                #expect(removed.fields["reason"] == "removed")
                #expect((try? LoopbackHTTP.get(port: service.listen, path: "/broken"))?.status != 503)
                let journal = try JSONDecoder.journal.decode(
                    ChaosJournal.self,
                    from: Data(contentsOf: URL(fileURLWithPath: service.directory + "/int.json"))
                )
                #expect(journal.status == .interrupted)
                #expect(journal.rollbacks.last?.status == "succeeded")
            }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        @Test func theRollbacksRunOnceAControllerKilledMidRunIsBack() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1), prefix: "slipway-chaos-restart")
            let left = try await service.running { service in
                try service.startController()
                try await service.waitUntilServing(instances: 1)
                let experiment =
                    Self.breakingExperiment(title: "outlives its controller", pause: 4) + """

                        rollbacks:
                          - type: action
                            name: mend the path
                            provider: {type: slipway, func: remove-faults, arguments: {app: shop}}
                        """
                try experiment.write(toFile: service.directory + "/restart.yaml", atomically: true, encoding: .utf8)
                let directory = service.directory
                let running = Task {
                    try await SlipwayBinary.run(
                        ["chaos", "run", "restart.yaml", "--journal", "restart.json", "-f", "slipway.yaml"],
                        in: directory,
                        seconds: 90
                    )
                }
                try await waitUntil("the experiment's fault is in force", timeout: .seconds(30)) {
                    (try? LoopbackHTTP.get(port: service.listen, path: "/broken"))?.status == 503
                }
                let status = try await service.slipway(["chaos", "status"])
                #expect(
                    status.stdout.contains("experiment \"outlives its controller\" running since"),
                    "\(status.stdout)"
                )
                // The controller dies mid-run; the data plane keeps the fault. The pause ends and the rollbacks
                // begin while no controller answers: they wait for the next one.
                service.killController()
                try await Task.sleep(for: .seconds(6))
                #expect((try? LoopbackHTTP.get(port: service.listen, path: "/broken"))?.status == 503)
                try service.startController()
                let run = try await running.value
                #expect(run.status == 0, "\(run)")
                let removed = try #require(try service.events(.faultRemoved).first)
                #expect(removed.fields["reason"] == "removed")
                #expect((try? LoopbackHTTP.get(port: service.listen, path: "/broken"))?.status != 503)
                let journal = try JSONDecoder.journal.decode(
                    ChaosJournal.self,
                    from: Data(contentsOf: URL(fileURLWithPath: directory + "/restart.json"))
                )
                #expect(journal.status == .completed)
                guard case .object(let first)? = journal.rollbacks.first?.activity else {
                    Issue.record("no rollback in the journal")
                    return
                }
                #expect(first["name"] == "mend the path")
                #expect(!journal.rollbacks.isEmpty && journal.rollbacks.allSatisfy { $0.status == "succeeded" })
                #expect(try service.events(.chaosExperimentRan).last?.fields["status"] == "completed")
                let started = try #require(try service.events(.chaosExperimentStarted).first)
                #expect(started.fields["id"] == (try service.events(.chaosExperimentRan).last?.fields["id"]))
                let after = try await service.slipway(["chaos", "status"])
                #expect(!after.stdout.contains("running since"), "\(after.stdout)")
            }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }
    }
}

extension JSONDecoder {
    /// Reads journals as `slipway chaos run` writes them.
    static var journal: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension LiveRollouts {
    /// The statistical steady-state probe against `Tests/Fixtures/flaky-server.py`: failures a fault injects are not
    /// the app's and the steady state holds; failures of the app itself are found.
    @Suite struct SteadyStateProbeTests {
        @Test(.tags(.heavy)) func injectedFailuresAreToldApartFromTheAppsOwn() async throws {
            try await HeavyLoad.exclusive {
                let flag = try makeTemporaryDirectory("slipway-steady") + "/failing"
                let service = try LiveService(
                    app: """
                        instances: 2
                        version: "1.0.0"
                        run:
                          command: \(LiveService.flakyServerCommand(flag: flag))
                        health:
                          path: /
                          interval: 60s
                          healthyThreshold: 1
                          startDeadline: 15s
                        """,
                    prefix: "slipway-steady"
                )
                let left = try await service.running { try await run($0, flag: flag) }
                #expect(left.isEmpty, "still running after the test: \(left)")
            }
        }

        private func experiment(method: String) -> String {
            """
            title: steady
            steady-state-hypothesis:
              title: the app behaves as before
              probes:
                - type: probe
                  name: steady state
                  tolerance: true
                  provider: {type: slipway, func: steady-state, arguments: {app: shop, window: 4s}}
            method:
            \(method)
            """
        }

        private func run(_ service: LiveService, flag: String) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let load = LoadClient(port: service.listen, rate: 200, threads: 4)
            await load.waitFor(200)

            // Half the requests aborted by a fault: the proxy's doing, not the app's.
            try experiment(
                method: """
                      - type: action
                        name: abort half
                        provider: {type: slipway, func: add-fault, arguments: {app: shop, fault: {kind: abort, percent: 50}}}
                        pauses: {after: 4}
                    """
            ).write(toFile: service.directory + "/injected.yaml", atomically: true, encoding: .utf8)
            var run = try await service.slipway(["chaos", "run", "injected.yaml", "--journal", "injected.json"])
            #expect(run.status == 0, "\(run)")

            // The app itself failing every request on one path: found.
            try experiment(
                method: """
                      - type: action
                        name: the app fails
                        provider: {type: process, path: touch, arguments: [\(flag)]}
                        pauses: {after: 4}
                    """
            ).replacingOccurrences(
                of: "method:",
                with:
                    "rollbacks:\n  - {type: action, name: heal, provider: {type: process, path: rm, arguments: [-f, \(flag)]}}\nmethod:"
            )
            .write(toFile: service.directory + "/own.yaml", atomically: true, encoding: .utf8)
            run = try await service.slipway(["chaos", "run", "own.yaml", "--journal", "own.json"])
            await load.stop()
            #expect(run.status == 1, "\(run)")
            #expect(run.stdout.contains(#"DEVIATED: probe "steady state" after the method"#), "\(run.stdout)")
            let journal = try JSONDecoder.journal.decode(
                ChaosJournal.self,
                from: Data(contentsOf: URL(fileURLWithPath: service.directory + "/own.json"))
            )
            guard case .object(let output)? = journal.steadyStates.after?.probes.first?.output,
                case .array(let findings)? = output["findings"]
            else {
                Issue.record("no findings in \(String(describing: journal.steadyStates.after))")
                return
            }
            #expect(findings.first?.stringValue?.hasPrefix("5xx rose from 0.00% to") == true, "\(findings)")
            #expect(!FileManager.default.fileExists(atPath: flag), "the rollback removed the flag")
        }
    }
}
