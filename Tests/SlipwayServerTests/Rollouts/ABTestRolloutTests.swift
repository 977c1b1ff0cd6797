import AsyncHTTPClient
import Foundation
import NIOCore
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// A/B tests through the real proxy: the app reports conversions in `X-Slipway-Outcome`, the proxy counts them
    /// per version, and the experiment answers in the events, the API and the CLI.
    @Suite struct ABTestRolloutTests {
        static func config(apiPort: Int, experiment: String, conversionRate: String) -> String {
            ControllerFixture.demoConfig(
                instances: 2,
                extra: RolloutConfig.app(
                    strategy: """
                        abTest:
                          weight: 50
                        \(experiment.indented(2))
                        """,
                    analysis: """
                        interval: 1s
                        minRequests: 10
                        checks: []
                        failFast: ["successRate >= 85%"]
                        compare: [errorRate]
                        """
                ),
                apiPort: apiPort,
                env: ["DEMO_CONVERSION_RATE": conversionRate]
            )
        }

        func start(experiment: String) async throws -> (ControllerFixture, LoadClient, Int) {
            let apiPort = try LoopbackHTTP.freePort()
            let fixture = try await ControllerFixture(
                yaml: Self.config(apiPort: apiPort, experiment: experiment, conversionRate: "0.1")
            )
            try await fixture.waitUntilServing(instances: 2)
            let load = LoadClient(port: fixture.port)
            await load.waitFor(100)
            return (fixture, load, apiPort)
        }

        /// The experiment's report once it concludes. It usually takes seconds; the bound is for a machine busy with
        /// other tests, and a timeout says how far the experiment got.
        func concluded(
            _ fixture: ControllerFixture,
            load: LoadClient,
            timeout: Duration = .seconds(150)
        ) async throws -> ExperimentReport {
            var event: RecordedEvent?
            do {
                try await waitUntil("the experiment concludes", timeout: timeout) {
                    event = try fixture.events(.experimentConcluded).first
                    return event != nil
                }
            } catch {
                let judged: [String] = (try? fixture.events(.analysisJudged).suffix(3).map { "\($0.fields)" }) ?? []
                let rollout: RolloutSummary?? = try? await fixture.controller.rollout(app: "shop")
                let state: String = rollout??.state ?? "?"
                let reason: String = rollout??.reason ?? ""
                let answered = load.all.count
                let byCandidate = load.served(by: "2.0.0").count
                Issue.record(
                    Comment(
                        rawValue:
                            "not concluded: \(answered) requests answered, \(byCandidate) by 2.0.0; rollout \(state) "
                            + "(\(reason)); last judgements: \(judged.joined(separator: "; "))"
                    )
                )
                throw error
            }
            return try #require(event?.fields["report"].flatMap(ExperimentReport.init(json:)))
        }

        @Test(.tags(.heavy)) func aHigherConversionRateEndsWithBBetterAndAPersonPromotesIt() async throws {
            try await HeavyLoad.exclusive { try await aHigherConversionRateEndsWithBBetterAndAPersonPromotesItAlone() }
        }

        private func aHigherConversionRateEndsWithBBetterAndAPersonPromotesItAlone() async throws {
            let (fixture, load, apiPort) = try await start(
                experiment: """
                    goals: [{outcome: converted}, success]
                    alpha: 5%
                    """
            )
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: ["DEMO_CONVERSION_RATE": "0.2"], by: "test")
            )
            let report = try await concluded(fixture, load: load)
            let goal = try #require(report.goals.first)
            #expect(goal.name == "converted")
            let comparison = try #require(goal.comparisons.first)
            #expect(comparison.verdict == .better, "\(report.lines.joined(separator: "\n"))")
            #expect(try #require(comparison.lower) > 0)
            #expect(try #require(goal.variants[1].mean) > (try #require(goal.variants[0].mean)))
            #expect(!report.split.mismatched)
            #expect(report.summary.hasPrefix("B better on converted"))

            // Concluded, the rollout waits for a person, with the split still in force.
            let summary = try #require(try await fixture.controller.rollout(app: "shop"))
            #expect(summary.state == "running")
            #expect(
                summary.reason?.contains("promote keeps 2.0.0, abort keeps 1.0.0") == true,
                "\(summary.reason ?? "")"
            )
            #expect(fixture.weights == ["1.0.0": 5_000, "2.0.0": 5_000])

            // The same report over the API and the CLI.
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            let response = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(apiPort)/api/v1/apps/shop/experiment"),
                timeout: .seconds(10)
            )
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status.code == 200)
            #expect(body.contains("\"verdict\":\"better\""))
            // The proxy keeps the app's message to it from the client.
            let direct = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(fixture.port)/"),
                timeout: .seconds(10)
            )
            #expect(!direct.headers.contains(name: "X-Slipway-Outcome"))
            _ = try await direct.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            let cli = try await SlipwayBinary.run(
                ["experiment", "shop", "--url", "http://127.0.0.1:\(apiPort)"],
                environment: [:],
                seconds: 30,
                signal: SIGINT
            )
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(cli.stdout.contains("B better on converted"))
            #expect(cli.stdout.contains("next: `slipway promote shop` keeps 2.0.0"))

            _ = try await fixture.controller.command(app: "shop", .promote(full: false), by: "test")
            let outcome = try await fixture.waitForOutcome(timeout: .seconds(30))
            await load.stop()
            #expect(outcome.state == "promoted")
            let b = goal.variants[1]
            print(
                "A/B test: B better on converted after \(b.units) B requests, \(Int(report.elapsedSeconds)) s; "
                    + "\(report.summary)"
            )
            try await fixture.stop()
        }

        @Test func threeVariantsEachTakeAThirdAndThePersonKeepsTheWinner() async throws {
            let apiPort = try LoopbackHTTP.freePort()
            let yaml = Self.config(apiPort: apiPort, experiment: "goals: [{outcome: converted}]", conversionRate: "0.1")
                .replacingOccurrences(of: "weight: 50", with: "instances: 1")
            let fixture = try await ControllerFixture(yaml: yaml)
            try await fixture.waitUntilServing(instances: 2)
            let load = LoadClient(port: fixture.port)
            await load.waitFor(100)
            // B converts less than A, C more: the same build, told apart by a setting of its own.
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(
                    version: "2.0.0",
                    variants: [Release(version: "2.1.0", env: ["DEMO_CONVERSION_RATE": "0.3"])],
                    env: ["DEMO_CONVERSION_RATE": "0.02"],
                    by: "test"
                )
            )
            let report = try await concluded(fixture, load: load)
            let goal = try #require(report.goals.first)
            #expect(goal.variants.map(\.name) == ["A", "B", "C"])
            #expect(goal.comparisons.map(\.verdict) == [.worse, .better], "\(report.lines.joined(separator: "\n"))")
            #expect(!report.split.mismatched, "\(report.split.summary)")
            #expect(fixture.weights == ["1.0.0": 3_334, "2.0.0": 3_333, "2.1.0": 3_333])

            // `promote` alone would keep B: refused, with the way to name the variant.
            await #expect(throws: CommandRefusal.self) {
                _ = try await fixture.controller.command(app: "shop", .promote(full: false), by: "test")
            }
            let cli = try await SlipwayBinary.run(
                ["promote", "shop", "--variant", "C", "--url", "http://127.0.0.1:\(apiPort)"],
                environment: [:],
                seconds: 30,
                signal: SIGINT
            )
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(cli.stdout.contains("promote --variant C: rollout #1 1.0.0 → 2.1.0"), "\(cli.stdout)")
            let outcome = try await fixture.waitForOutcome(timeout: .seconds(60))
            await load.stop()
            #expect(outcome.state == "promoted")
            let status = try fixture.status()
            #expect(status.version == "2.1.0")
            #expect(status.instances.filter { $0.state == .healthy }.allSatisfy { $0.version == "2.1.0" })
            let chosen = try #require(try fixture.events(.variantChosen).first)
            #expect(chosen.fields["previous"] == "2.0.0")
            // The kept variant runs with its own setting: its instances convert at 30%, not the deploy's 2%.
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            var answers = 0.0
            var conversions = 0.0
            for instance in status.instances where instance.state == .healthy {
                let port = try #require(instance.port)
                let response = try await client.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"),
                    timeout: .seconds(10)
                )
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    let value = Double(line.split(separator: " ").last ?? "") ?? 0
                    if line.hasPrefix("demo_responses_total") { answers += value }
                    if line.hasPrefix("demo_conversions_total") { conversions += value }
                }
            }
            try await client.shutdown()
            #expect(answers > 100)
            #expect(conversions / answers > 0.2, "\(conversions) of \(answers)")
            print(
                "A/B/n test: \(report.summary); kept C, whose instances converted \(Int(conversions)) of \(Int(answers))"
            )
            try await fixture.stop()
        }

        @Test func stickyUsersAreCountedOnceEach() async throws {
            let apiPort = try LoopbackHTTP.freePort()
            let yaml = Self.config(apiPort: apiPort, experiment: "goals: [{outcome: converted}]", conversionRate: "0.1")
                .split(separator: "\n", omittingEmptySubsequences: false)
                .flatMap { line -> [Substring] in
                    // The split's own indentation, for the key beside it.
                    guard line.trimmingCharacters(in: .whitespaces) == "weight: 50" else { return [line] }
                    return [line, line.prefix { $0 == " " } + "stickiness: {header: X-User}"]
                }
                .joined(separator: "\n")
            let fixture = try await ControllerFixture(yaml: yaml)
            try await fixture.waitUntilServing(instances: 2)
            // 2,000 people, each coming back many times.
            let load = LoadClient(port: fixture.port, userHeader: "X-User", users: 2_000)
            await load.waitFor(100)
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: ["DEMO_CONVERSION_RATE": "0.4"], by: "test")
            )
            let report = try await concluded(fixture, load: load)
            await load.stop()
            let goal = try #require(report.goals.first)
            #expect(report.unit == "user")
            #expect(goal.comparisons.first?.verdict == .better, "\(report.lines.joined(separator: "\n"))")
            // Each user counts once, by their first request since the split began, whatever their later requests.
            let users = goal.variants.map(\.units).reduce(0, +)
            #expect(users > 40 && users <= 2_000, "\(users) users")
            let requests = load.all.count
            #expect(requests > 2 * users, "\(requests) requests, \(users) users")
            // Their first requests went to a variant at random: the split is checked, and holds.
            #expect(report.split.pValue != nil)
            #expect(!report.split.mismatched, "\(report.split.summary)")
            #expect(report.assumptions.contains { $0.hasPrefix("a unit is a user") })
            print("sticky A/B test: \(report.summary); \(users) users over \(requests) requests")
            _ = try await fixture.controller.command(app: "shop", .abort, by: "test")
            _ = try await fixture.waitForOutcome(timeout: .seconds(30))
            try await fixture.stop()
        }

        @Test func threeVariantsOfPythonsHTTPServerShareTheTrafficAndTheChosenOneIsPromoted() async throws {
            // A server nobody here wrote: no outcome header, so the goal is the proxy's own success rate.
            var yaml = ControllerFixture.demoConfig(
                instances: 2,
                command: "[python3, -m, http.server, \"{port}\", --bind, 127.0.0.1]",
                extra: RolloutConfig.app(
                    strategy: """
                        abTest:
                          instances: 1
                          goals: [success]
                        """,
                    analysis: """
                        interval: 1s
                        minRequests: 10
                        checks: ["successRate >= 99%"]
                        failFast: ["successRate >= 95%"]
                        """
                )
            )
            yaml = yaml.replacingOccurrences(of: "path: /healthz", with: "path: /")
            let fixture = try await ControllerFixture(yaml: yaml)
            try await fixture.waitUntilServing(instances: 2)
            let load = LoadClient(port: fixture.port)
            await load.waitFor(100)
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", variants: [Release(version: "2.1.0")], by: "test")
            )
            try await waitUntil("every variant takes its third", timeout: .seconds(30)) {
                fixture.weights == ["1.0.0": 3_334, "2.0.0": 3_333, "2.1.0": 3_333]
            }
            // Each variant's server answers its share: the experiment counts them all.
            var report: ExperimentReport?
            try await waitUntil("each variant served 50 requests", timeout: .seconds(30)) {
                report = try await fixture.controller.experiment(app: "shop")
                return report?.goals.first?.variants.allSatisfy { $0.units >= 50 } == true
            }
            #expect(report?.goals.first?.variants.map(\.version) == ["1.0.0", "2.0.0", "2.1.0"])
            _ = try await fixture.controller.command(app: "shop", .choose(variant: "C"), by: "test")
            let outcome = try await fixture.waitForOutcome(timeout: .seconds(60))
            await load.waitFor(load.all.count + 100)
            await load.stop()
            #expect(outcome.state == "promoted")
            let status = try fixture.status()
            #expect(status.version == "2.1.0")
            #expect(status.instances.filter { $0.state == .healthy }.map(\.version) == ["2.1.0", "2.1.0"])
            // No request failed while the variants came and went.
            let failed = load.all.filter { $0.status != 200 }
            #expect(failed.isEmpty, "\(failed.count) of \(load.all.count) requests failed")
            print(
                "A/B/n of python3 -m http.server: \(load.all.count) requests, \(failed.count) failed; kept 2.1.0; "
                    + (report?.summary ?? "")
            )
            try await fixture.stop()
        }

        @Test func identicalVariantsEndWithoutABetterOrWorseVerdict() async throws {
            let (fixture, load, _) = try await start(
                experiment: """
                    goals: [{outcome: converted}]
                    minimumEffect: 50%
                    sampleSize: 1500
                    """
            )
            _ = try await fixture.controller.deploy(app: "shop", DeployRequest(version: "2.0.0", by: "test"))
            let report = try await concluded(fixture, load: load)
            let verdict = report.primaryVerdict
            #expect(verdict == .noMeaningfulDifference || verdict == .inconclusive, "\(report.summary)")
            _ = try await fixture.controller.command(app: "shop", .abort, by: "test")
            let outcome = try await fixture.waitForOutcome(timeout: .seconds(30))
            await load.stop()
            #expect(outcome.state == "aborted")
            #expect(try fixture.status().version == "1.0.0")
            print("A/A test: \(report.summary) (\(report.conclusion ?? "?"))")
            try await fixture.stop()
        }
    }
}
