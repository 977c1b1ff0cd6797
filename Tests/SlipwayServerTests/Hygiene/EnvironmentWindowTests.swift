import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Synchronization
import Testing

extension LiveRollouts {
    /// A release goes through staging before prod, prod is closed from Friday 17:00 to Monday 09:00 in Seoul, and
    /// a forced deploy is recorded with its reason. The controller's wall clock is set by the test.
    @Suite struct EnvironmentWindowTests {
        /// Friday 2026-11-20 18:00 in Seoul (UTC+9, no daylight saving time).
        static let fridayEvening = Date(timeIntervalSince1970: 1_795_165_200)
        /// Monday 2026-11-23 09:00 in Seoul.
        static let mondayMorning = Date(timeIntervalSince1970: 1_795_392_000)
        /// Tuesday 2026-11-24 11:00 in Seoul.
        static let tuesday = Date(timeIntervalSince1970: 1_795_485_600)

        static func yaml(apiPort: Int) -> String {
            let demo = BuiltProducts.path("slipway-demo-app")
            return """
                controller:
                  api: 127.0.0.1:\(apiPort)
                  stateDir: state
                apps:
                  - name: shop
                    listen: 127.0.0.1:0
                    instances: 1
                    version: "1.0.0"
                    run:
                      command: [\(demo), --port, "{port}"]
                      stopGracePeriod: 5s
                    health: { path: /healthz, interval: 200ms, timeout: 150ms, healthyThreshold: 1, startDeadline: 10s }
                    strategy: { canary: { steps: [{ weight: 50 }] } }
                environments:
                  staging:
                    apps:
                      shop: {}
                  prod:
                    requires: staging
                    windows:
                      timeZone: Asia/Seoul
                      deny:
                        - { from: Fri 17:00, to: Mon 09:00 }
                    apps:
                      shop: { instances: 2 }
                """
        }

        @Test func prodTakesOnlyWhatStagingPromotedAndNeverOnFridayEveningUnlessForced() async throws {
            let now = Mutex(Self.fridayEvening)
            let apiPort = try LoopbackHTTP.freePort()
            let url = ["--url", "http://127.0.0.1:\(apiPort)"]
            let fixture = try await ControllerFixture(
                yaml: Self.yaml(apiPort: apiPort),
                wallClock: { now.withLock { $0 } }
            )
            let controller = fixture.controller
            try await waitUntil("both environments serve", timeout: .seconds(20)) {
                controller.listener(of: "shop@staging")?.table.instances.count == 1
                    && controller.listener(of: "shop@prod")?.table.instances.count == 2
            }
            func deploy(
                _ app: String,
                _ version: String,
                force: Bool = false,
                reason: String? = nil
            ) async
                -> Result<RolloutSummary, CommandRefusal>
            {
                do {
                    return .success(
                        try await controller.deploy(
                            app: app,
                            DeployRequest(version: version, force: force, by: "ada", reason: reason)
                        )
                    )
                } catch {
                    return .failure(error)
                }
            }
            func outcome(_ app: String) async throws -> String {
                var summary: RolloutSummary?
                try await waitUntil("the rollout of \(app) ends", timeout: .seconds(30)) {
                    summary = try await controller.rollout(app: app)
                    return summary?.isFinished == true
                }
                return summary?.state ?? "?"
            }

            // Friday evening in Seoul: prod refuses, and says when it opens again; staging has no windows.
            guard case .failure(let closed) = await deploy("shop@prod", "2.0.0") else {
                Issue.record("a deploy to prod on Friday evening should be refused")
                return
            }
            #expect(closed.code == .deployWindow)
            #expect(closed.nextAllowed == Self.mondayMorning)
            #expect(closed.message.contains("inside deny Fri 17:00 – Mon 09:00 (Asia/Seoul)"))
            #expect(closed.message.contains("next allowed Mon 2026-11-23 09:00 KST"))
            let view = try controller.windows(app: "shop@prod")
            #expect(!view.allowedNow && view.nextAllowed == Self.mondayMorning)
            #expect(view.openings.first?.start == Self.mondayMorning)
            #expect(try controller.windows(app: "shop@staging").allowedNow)
            // The same through the command line: exit 3 with the next allowed time, and `slipway windows`.
            try await waitUntil("the API answers", timeout: .seconds(10)) {
                (try? await SlipwayBinary.run(["windows", "shop@prod"] + url))?.status == 0
            }
            let refused = try await SlipwayBinary.run(["deploy", "shop", "-e", "prod", "--version", "2.0.0"] + url)
            #expect(refused.status == 3)
            #expect(refused.stderr.hasPrefix("error: shop@prod: deploys are not allowed now"))
            #expect(refused.stderr.contains("next allowed Mon 2026-11-23 09:00 KST (UTC+09:00)"))
            let windows = try await SlipwayBinary.run(["windows", "shop", "--environment", "prod"] + url)
            #expect(windows.status == 0)
            #expect(
                windows.stdout.hasPrefix(
                    """
                    shop@prod: deploys are NOT allowed now: inside deny Fri 17:00 – Mon 09:00 (Asia/Seoul)
                    next allowed: Mon 2026-11-23 09:00 KST (UTC+09:00)
                    rules:
                      deny Fri 17:00 – Mon 09:00 (Asia/Seoul, environments.prod.windows)
                    next windows (Asia/Seoul):
                      Mon 2026-11-23 09:00 KST (UTC+09:00) – Fri 2026-11-27 17:00 KST (UTC+09:00)
                    """
                ),
                "\(windows.stdout)"
            )

            // On Tuesday the window is open, but staging has not promoted 2.0.0 yet.
            now.withLock { $0 = Self.tuesday }
            guard case .failure(let early) = await deploy("shop@prod", "2.0.0") else {
                Issue.record("prod should require a staging promotion first")
                return
            }
            #expect(early.code == .conflict)
            #expect(
                early.message
                    == "shop@prod: 2.0.0 has not been promoted in staging (shop@staging has promoted no release yet); "
                    + "deploy it to shop@staging first, or deploy with --force --reason \"…\""
            )
            #expect(try fixture.events(.rolloutStarted, app: "shop@prod").isEmpty)

            _ = try await deploy("shop@staging", "2.0.0").get()
            #expect(try await outcome("shop@staging") == "promoted")
            _ = try await deploy("shop@prod", "2.0.0").get()
            #expect(try await outcome("shop@prod") == "promoted")

            // Friday evening again: a hotfix that skipped staging goes out forced, with its reason on record.
            now.withLock { $0 = Self.fridayEvening }
            guard case .failure(let noReason) = await deploy("shop@prod", "2.0.1", force: true) else {
                Issue.record("--force without a reason should be refused")
                return
            }
            #expect(noReason.code == .badRequest)
            _ = try await deploy("shop@prod", "2.0.1", force: true, reason: "payment outage hotfix").get()
            #expect(try await outcome("shop@prod") == "promoted")
            let forced = try #require(try fixture.events(.deployForced, app: "shop@prod").last)
            #expect(forced.fields["reason"] == "payment outage hotfix")
            #expect(forced.fields["by"] == "ada")
            #expect(forced.fields["overridden"] == .array(["deployWindow", "environment"]))

            // Going back is never held by a window.
            let back = try await controller.command(app: "shop@prod", .rollback(to: nil), by: "ada")
            #expect(back.to == "2.0.0")
            #expect(try await outcome("shop@prod") == "promoted")
            #expect(try controller.status(app: "shop@prod").version == "2.0.0")

            // The path of each version through the environments.
            var records: [String: [RolloutRecord]] = [:]
            for environment in ["staging", "prod"] {
                records[environment] = RolloutRecord.fold(
                    try fixture.log.events(app: "shop@\(environment)", limit: .max)
                )
            }
            let paths = ReleasePath.build(environments: ["staging", "prod"], records: records)
            #expect(paths.map(\.version) == ["2.0.1", "2.0.0"])
            #expect(paths[0].stages.map(\.environment) == ["prod"])
            #expect(paths[1].stages.map(\.environment) == ["staging", "prod"])
            #expect(paths[1].stages.map(\.outcome) == ["promoted", "promoted"])
            try await fixture.stop()
            let history = try await SlipwayBinary.run(["history", "shop", "-f", fixture.directory + "/slipway.yaml"])
            #expect(history.status == 0, "\(history.stderr)")
            let lines = history.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "shop: versions through staging → prod, newest first")
            #expect(lines.count == 3)
            #expect(lines.dropFirst().first?.hasPrefix("2.0.1  staging: -  →  prod: promoted ") == true)
            #expect(lines.last?.hasPrefix("2.0.0  staging: promoted ") == true)
            #expect(lines.last?.contains("(#1 by ada)  →  prod: promoted ") == true)
        }
    }
}
