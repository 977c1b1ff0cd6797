import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// A mirror step judges a candidate on copies of real traffic before any user reaches it: `slipway up` with a
    /// server nobody here wrote, a release broken on one path, steady load on two paths.
    @Suite struct MirrorRolloutTests {
        @Test func aCandidateFailingOnOnePathIsCaughtByItsMirrorStepWithNoUserError() async throws {
            let directory = try makeTemporaryDirectory("slipway-mirror-rollout")
            let service = try LiveService(
                app: """
                    instances: 2
                    version: "1.0.0"
                    run:
                      command: \(LiveService.flakyServerCommand(flag: directory + "/never"))
                    health:
                      path: /healthz
                      interval: 500ms
                      timeout: 400ms
                      healthyThreshold: 1
                      unhealthyThreshold: 2
                      startDeadline: 15s
                    strategy:
                      canary:
                        steps:
                          - mirror: {share: 100%, duration: 5s}
                          - weight: 50
                          - pause: {}
                    analysis:
                      interval: 1s
                      minRequests: 20
                      checks: ["successRate >= 99%"]
                    """,
                prefix: "slipway-mirror"
            )
            let left = try await service.running { try await run($0, directory: directory) }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        private func run(_ service: LiveService, directory: String) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let home = LoadClient(port: service.listen, rate: 120, threads: 3, path: "/")
            let cart = LoadClient(port: service.listen, rate: 120, threads: 3, path: "/cart/items")
            await home.waitFor(120)

            let deploy = try await service.slipway(
                ["deploy", "shop", "--version", "2.0.0", "--env", "FLAKY_FAIL_PATH=/cart"]
            )
            #expect(deploy.status == 0, "\(deploy.stderr)")
            let state = try await service.waitForRolloutEnd(timeout: .seconds(60))
            await home.stop()
            await cart.stop()

            #expect(state == "rolledBack")
            let rollingBack = try #require(try service.events(.rolloutRollingBack).last)
            let reason = rollingBack.fields["reason"]?.stringValue ?? ""
            #expect(reason.contains("the mirror step failed"), "\(reason)")
            let judged = try #require(
                try service.events(.analysisJudged).last { $0.fields["verdict"]?.stringValue == "fail" }
            )
            func errors(of version: String) -> Int? {
                guard case .object(let mirrored)? = judged.fields["mirrored"],
                    case .object(let counts)? = mirrored[version]
                else { return nil }
                return counts["errors"]?.intValue
            }
            #expect((errors(of: "2.0.0") ?? 0) > 0, "\(judged.fields)")
            #expect(errors(of: "1.0.0") == 0, "\(judged.fields)")

            // No user saw an error, and the candidate never had a share of users' traffic.
            let users = home.all + cart.all
            #expect(users.count > 400)
            #expect(home.failed.isEmpty && cart.failed.isEmpty, "\(home.failed.count + cart.failed.count) user errors")
            for shifted in try service.events(.trafficShifted) {
                guard case .object(let weights)? = shifted.fields["weights"] else { continue }
                #expect((weights["2.0.0"]?.numberValue ?? 0) == 0, "\(weights)")
            }
            // Every request the candidate logged, health checks aside, was a copy; no stable instance got one.
            let logDirectory = service.directory + "/state/logs/shop"
            var copiesLogged = 0
            for file in try FileManager.default.contentsOfDirectory(atPath: logDirectory)
            where file.hasSuffix(".err.log") {
                let lines = try String(contentsOfFile: logDirectory + "/" + file, encoding: .utf8)
                    .split(separator: "\n").filter { $0.contains("\"GET ") && !$0.contains("GET /healthz") }
                let marked = lines.filter { $0.hasSuffix(" mirror") }
                if marked.isEmpty { continue }
                #expect(marked.count == lines.count, "\(file): \(lines.count - marked.count) user requests")
                copiesLogged += marked.count
            }
            #expect(copiesLogged > 100)
        }
    }
}
