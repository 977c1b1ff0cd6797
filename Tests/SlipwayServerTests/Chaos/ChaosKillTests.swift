import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// `slipway chaos kill` under steady load on three instances of the demo app with retries: a crash by
    /// `SIGKILL` and a five-second freeze by `SIGSTOP` each cost at most 0.5% of the requests sent meanwhile.
    @Suite struct ChaosKillTests {
        /// The largest share of failed requests a kill or a hang may cost.
        static let failedShareBound = 0.005

        @Test(.tags(.heavy)) func aKillAndAHangUnderLoadCostAtMostHalfAPercentOfRequests() async throws {
            try await HeavyLoad.exclusive {
                let service = try LiveService(
                    app: LiveService.demoApp(
                        instances: 3,
                        extra: """
                                proxy:
                                  retries: {on: [connect-failure, reset, timeout], perTryTimeout: 300ms, attempts: 2}
                                  outlierDetection: {interval: 200ms, baseEjectionTime: 3s, consecutiveFailures: 2}
                            """
                    ),
                    prefix: "slipway-chaos-kill"
                )
                let left = try await service.running { try await run($0) }
                #expect(left.isEmpty, "still running after the test: \(left)")
            }
        }

        private func run(_ service: LiveService) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 3)
            let load = LoadClient(port: service.listen, rate: 200, threads: 4)
            await load.waitFor(400)

            // A crash: the supervisor records the exit, a new instance replaces it.
            let before = try #require(try service.status()).instances.map(\.id)
            let killFrom = Date().timeIntervalSince(load.began)
            var run = try await service.slipway(["chaos", "kill", "shop", "--reason", "drill"])
            #expect(run.status == 0 && run.stdout.hasPrefix("sent SIGKILL to shop-"), "\(run)")
            let kill = try #require(try service.events(.chaosKill).last)
            let victim = try #require(kill.instance)
            #expect(before.contains(victim))
            #expect(kill.fields["action"] == "kill" && kill.fields["reason"] == "drill")
            // Recorded before it happened: the exit follows the kill in the log.
            try await waitUntil("\(victim) exited", timeout: .seconds(10)) {
                try service.events(.instanceExited).contains { $0.instance == victim && $0.id > kill.id }
            }
            try await waitUntil("a replacement is healthy", timeout: .seconds(30)) {
                let status = try service.status()
                return status?.healthyCount == 3 && status?.instances.contains { $0.id == victim } == false
            }
            await load.waitFor(400)
            let killTo = Date().timeIntervalSince(load.began)

            // A freeze: in-flight requests to it time out and go elsewhere; it comes back after five seconds.
            let hangFrom = Date().timeIntervalSince(load.began)
            run = try await service.slipway(["chaos", "kill", "shop", "--hang", "5s"])
            #expect(run.status == 0 && run.stdout.hasPrefix("froze shop-"), "\(run)")
            let hang = try #require(try service.events(.chaosKill).last)
            #expect(hang.fields["action"] == "hang" && hang.fields["hangMs"] == 5000)
            try await waitUntil("the freeze ends", timeout: .seconds(15)) {
                try service.events(.chaosHangEnded).contains { $0.instance == hang.instance }
            }
            let ended = try #require(try service.events(.chaosHangEnded).last)
            let hungFor = try #require(ended.fields["hungForMs"]?.intValue)
            #expect((5_000..<6_500).contains(hungFor), "hung for \(hungFor) ms")
            await load.waitFor(400)
            let hangTo = Date().timeIntervalSince(load.began)
            await load.stop()

            let all = load.all
            for (name, from, to) in [("kill", killFrom, killTo), ("hang", hangFrom, hangTo)] {
                let window = all.filter { $0.at >= from && $0.at < to }
                let failed = window.filter { !(200..<300).contains($0.status) }
                let share = Double(failed.count) / Double(max(window.count, 1))
                print("chaos \(name): \(failed.count) of \(window.count) requests failed (\(share * 100)%)")
                #expect(window.count >= 400, "\(name): \(window.count) requests")
                #expect(share <= Self.failedShareBound, "\(name): \(failed.count) of \(window.count) failed")
            }
        }
    }
}
