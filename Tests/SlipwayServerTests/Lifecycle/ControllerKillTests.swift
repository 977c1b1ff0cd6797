import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveRollouts {
    /// `kill -9` of the controller at points of canary, blue-green and rolling rollouts under keep-alive load, each
    /// time started again: no request fails, nothing is started twice, and every rollout ends as it would have.
    @Suite struct ControllerKillTests {
        /// A point to kill the controller at: a description and when it is reached.
        struct KillPoint: Sendable {
            var name: String
            var reached: @Sendable (LiveService) throws -> Bool
        }

        /// Deploys `version` and kills the controller at each point in turn, starting it again after `downFor`.
        func run(
            _ service: LiveService,
            version: String,
            env: [String] = [],
            points: [KillPoint],
            expect outcome: String
        ) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 3)
            let load = LoadClient(port: service.listen)
            await load.waitFor(100)
            let deploy = try await service.slipway(
                ["deploy", "shop", "--version", version] + env.flatMap { ["--env", $0] }
            )
            #expect(deploy.status == 0, "deploy: \(deploy.stderr)")
            for point in points {
                try await waitUntil(point.name, timeout: .seconds(60), interval: .milliseconds(10)) {
                    try point.reached(service)
                }
                service.killController()
                // Nothing decides for a moment; the data plane serves on its last routes meanwhile.
                try await Task.sleep(for: .milliseconds(300))
                try service.startController()
                await load.waitFor(40)
            }
            let state = try await service.waitForRolloutEnd()
            await load.waitFor(100)
            await load.stop()
            #expect(state == outcome)
            let responses = load.all
            #expect(
                load.failed.isEmpty,
                "\(load.failed.count) of \(responses.count) requests failed: \(load.failed.prefix(3))"
            )
            #expect(try service.events(.rolloutStarted).count == 1)
            let started = try service.events(.instanceStarted).compactMap(\.instance)
            #expect(Set(started).count == started.count, "an instance id was started twice: \(started)")
            #expect(try service.events(.dataPlaneAttached).count == points.count)
            #expect(try service.events(.dataPlaneStarted).count == 1)
            print(
                "controller kills (\(points.map(\.name).joined(separator: ", "))): "
                    + "\(load.failed.count) of \(responses.count) requests failed, rollout \(state)"
            )
        }

        static func step(_ description: String) -> @Sendable (LiveService) throws -> Bool {
            { service in try service.status()?.rollout?.stepDescription.hasPrefix(description) == true }
        }

        @Test func canaryKilledInWarmUpMidStepAndInAnalysis() async throws {
            let service = try LiveService(
                app: LiveService.demoApp(
                    extra: RolloutConfig.app(
                        strategy: """
                            canary:
                              steps:
                                - weight: 25
                                - pause: 2s
                                - analysis: { windows: 3 }
                                - weight: 50
                                - pause: 1s
                            """,
                        warmup: """
                            requests: { paths: [/], count: 30 }
                            timeout: 20s
                            """
                    )
                )
            )
            defer { Task { await service.tearDown() } }
            try await run(
                service,
                version: "2.0.0",
                // The candidate's first requests are slow, so its warm-up lasts a few seconds.
                env: ["DEMO_SLOW_FIRST=30", "DEMO_SLOW_FIRST_LATENCY=100ms"],
                points: [
                    KillPoint(name: "warm-up") { service in
                        try !service.events(.instanceStarted).filter { $0.fields["role"] == "candidate" }.isEmpty
                            && service.events(.instanceWarmedUp).isEmpty
                    },
                    KillPoint(name: "mid-step", reached: Self.step("pause 2s")),
                    KillPoint(name: "analysis", reached: Self.step("analysis")),
                ],
                expect: "promoted"
            )
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func blueGreenKilledOnPreviewAndJustAfterPromotion() async throws {
            let preview = try LoopbackHTTP.freePort()
            let service = try LiveService(
                app: LiveService.demoApp(
                    extra: RolloutConfig.app(
                        strategy: """
                            blueGreen:
                              previewListen: 127.0.0.1:\(preview)
                              autoPromote: true
                              scaleDownDelay: 3s
                              prePromotion: { windows: 2 }
                              postPromotion: { windows: 2 }
                            """
                    )
                )
            )
            defer { Task { await service.tearDown() } }
            let previewLoad = PreviewTraffic(port: preview)
            try await run(
                service,
                version: "2.0.0",
                points: [
                    KillPoint(name: "preview open") { service in
                        try service.events(.routesChanged).contains { $0.fields["preview"] != nil }
                    },
                    KillPoint(name: "just after promotion") { service in
                        try !service.events(.rolloutPromoted).isEmpty
                    },
                ],
                expect: "promoted"
            )
            previewLoad.stop()
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func rollingKilledMidBatch() async throws {
            let service = try LiveService(
                app: LiveService.demoApp(
                    extra: RolloutConfig.app(
                        strategy: """
                            rolling:
                              maxSurge: 1
                              maxUnavailable: 0
                            """
                    )
                )
            )
            defer { Task { await service.tearDown() } }
            try await run(
                service,
                version: "2.0.0",
                points: [
                    KillPoint(name: "mid-batch") { service in
                        try service.events(.instanceHealthy).contains { $0.fields["version"] == "2.0.0" }
                    }
                ],
                expect: "promoted"
            )
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func canaryKilledWhileGoingBack() async throws {
            let service = try LiveService(
                app: LiveService.demoApp(
                    extra: RolloutConfig.app(
                        strategy: """
                            canary:
                              steps:
                                - weight: 25
                                - pause: {}
                            """
                    )
                )
            )
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 3)
            let load = LoadClient(port: service.listen)
            await load.waitFor(100)
            #expect(try await service.slipway(["deploy", "shop", "--version", "2.0.0"]).status == 0)
            try await waitUntil("the canary waits", timeout: .seconds(30)) {
                try service.status()?.rollout?.stepDescription.hasPrefix("pause") == true
            }
            await load.waitFor(100)
            #expect(try await service.slipway(["abort", "shop"]).status == 0)
            try await waitUntil("going back", interval: .milliseconds(5)) {
                try !service.events(.rolloutRollingBack).isEmpty
            }
            service.killController()
            try await Task.sleep(for: .milliseconds(300))
            try service.startController()
            let state = try await service.waitForRolloutEnd()
            await load.waitFor(100)
            await load.stop()
            #expect(state == "aborted")
            #expect(load.failed.isEmpty, "\(load.failed.count) of \(load.all.count) failed: \(load.failed.prefix(3))")
            #expect(try service.status()?.version == "1.0.0")
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }
    }
}

/// A little traffic on the blue-green preview listener, so its analysis has requests to judge.
final class PreviewTraffic: Sendable {
    private let load: LoadClient

    init(port: Int) {
        load = LoadClient(port: port, rate: 60, threads: 2)
    }

    func stop() {
        Task { await load.stop() }
    }
}
