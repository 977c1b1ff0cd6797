import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// Query checks against a real Prometheus that scrapes Slipway's `/metrics` and the instances' own `/metrics`
    /// (found through a file-discovery list the test keeps current, as a team's service discovery would).
    @Suite(.enabled(if: PrometheusRequirement.canRun, "needs /usr/bin/prometheus (apt-get install prometheus)"))
    struct PrometheusQueryRolloutTests {
        /// The app's own error ratio, from the counters its instances expose.
        static let appErrors =
            #"sum(increase(demo_responses_total{version="{version}",code="5xx"}[10s])) / "#
            + #"sum(increase(demo_responses_total{version="{version}"}[10s]))"#
        /// The same ratio as Slipway's proxy counted it.
        static let proxyErrors =
            #"sum(rate(slipway_proxy_responses_total{app="{app}",version="{version}",code_class="5xx"}[10s])) / "#
            + #"sum(rate(slipway_proxy_responses_total{app="{app}",version="{version}"}[10s]))"#

        static func analysis() -> String {
            """
            interval: 1s
            minRequests: 10
            checks:
              - {name: app error ratio, query: '\(appErrors)', max: 0.05}
              - {name: proxy error ratio, query: '\(proxyErrors)', max: 0.05}
            failFast: []
            """
        }

        /// Runs a canary of 2.0.0 at 50% with its error rate, judged by the queries alone; returns the outcome, the
        /// fixture (still running, for its log) and the seconds from the deploy to the outcome.
        func rollout(candidateErrorRate: String) async throws -> (RolloutSummary, ControllerFixture, Double) {
            try await rollout(
                strategy: """
                    canary:
                      steps:
                        - weight: 50
                        - analysis: {windows: 3}
                    """,
                analysis: Self.analysis(),
                candidateEnv: ["DEMO_ERROR_RATE": candidateErrorRate]
            )
        }

        /// Runs a rollout of 2.0.0 with `candidateEnv` under `strategy` and `analysis`, with a Prometheus scraping
        /// Slipway and the instances, until it ends (or its experiment concludes); returns as
        /// ``rollout(candidateErrorRate:)``.
        func rollout(
            strategy: String,
            analysis: String,
            env: [String: String] = [:],
            candidateEnv: [String: String],
            untilTheExperimentConcludes: Bool = false
        ) async throws -> (RolloutSummary, ControllerFixture, Double) {
            let apiPort = try LoopbackHTTP.freePort()
            let prometheus = try await PrometheusServer.start(staticTargets: ["127.0.0.1:\(apiPort)"])
            defer { prometheus.stop() }
            let yaml = ControllerFixture.demoConfig(
                instances: 2,
                extra: RolloutConfig.app(strategy: strategy, analysis: analysis),
                apiPort: apiPort,
                env: env
            ).replacingOccurrences(
                of: "  stateDir: state\n",
                with: "  stateDir: state\n  prometheus: \(prometheus.url)\n"
            )
            let fixture = try await ControllerFixture(yaml: yaml)
            // Service discovery: every running instance's own /metrics, labelled as a team would label them.
            let discovery = Task {
                var known: [String] = []
                while !Task.isCancelled {
                    let instances = (try? fixture.status().instances) ?? []
                    let targets = instances.compactMap { instance in
                        instance.port.map {
                            (address: "127.0.0.1:\($0)", labels: ["slipway_version": instance.version])
                        }
                    }
                    if targets.map(\.address) != known {
                        try? prometheus.discover(targets)
                        known = targets.map(\.address)
                    }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { discovery.cancel() }
            try await fixture.waitUntilServing(instances: 2)
            let load = LoadClient(port: fixture.port)
            await load.waitFor(100)
            let deployed = Date()
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: candidateEnv, by: "test")
            )
            let outcome: RolloutSummary
            if untilTheExperimentConcludes {
                try await waitUntil("the experiment concludes", timeout: .seconds(90)) {
                    try !fixture.events(.experimentConcluded).isEmpty
                }
                outcome = try #require(try await fixture.controller.rollout(app: "shop"))
            } else {
                outcome = try await fixture.waitForOutcome(timeout: .seconds(90))
            }
            let seconds = Date().timeIntervalSince(deployed)
            await load.stop()
            return (outcome, fixture, seconds)
        }

        /// The query checks of an event's evidence, by check name.
        static func queryChecks(_ fields: [String: JSONValue]) -> [String: [String: JSONValue]] {
            guard case .array(let checks)? = fields["checks"] else { return [:] }
            var result: [String: [String: JSONValue]] = [:]
            for case .object(let check) in checks where check["query"] != nil {
                if let name = check["check"]?.stringValue { result[name] = check }
            }
            return result
        }

        @Test func aGoodCandidatePassesItsPrometheusChecks() async throws {
            let (outcome, fixture, seconds) = try await rollout(candidateErrorRate: "0")
            #expect(outcome.state == "promoted", "\(outcome.reason ?? "")")
            let passed = try fixture.events(.analysisJudged).filter { $0.fields["verdict"] == "pass" }
            #expect(passed.count >= 3)
            let checks = Self.queryChecks(try #require(passed.last).fields)
            #expect(Set(checks.keys) == ["app error ratio", "proxy error ratio"])
            for check in checks.values {
                #expect(check["verdict"] == "pass")
                #expect(check["value"] == "0", "\(check)")
                #expect(check["query"]?.stringValue?.contains(#"version="{version}""#) == true)
            }
            let inconclusive = try fixture.events(.analysisJudged).filter { $0.fields["verdict"] == "inconclusive" }
            print(
                "Prometheus checks: a good candidate promoted \(String(format: "%.1f", seconds)) s after the deploy; "
                    + "\(inconclusive.count) windows inconclusive while Prometheus had no data for it yet"
            )
            try await fixture.stop()
        }

        @Test func aFailingCandidateIsRolledBackByItsPrometheusChecks() async throws {
            let (outcome, fixture, seconds) = try await rollout(candidateErrorRate: "0.3")
            #expect(outcome.state == "rolledBack")
            #expect(outcome.reason?.hasPrefix("analysis failed at step 3") == true, "\(outcome.reason ?? "")")
            let rollingBack = try #require(try fixture.events(.rolloutRollingBack).first)
            let failing = Self.queryChecks(rollingBack.fields).values.filter { $0["verdict"] == "fail" }
            #expect(!failing.isEmpty, "\(rollingBack.fields)")
            for check in failing {
                let value = Double(check["value"]?.stringValue ?? "") ?? 0
                #expect(value > 0.15 && value < 0.45, "\(check)")
            }
            // Until Prometheus had the candidate's series, the windows were inconclusive, never passed.
            let judged = try fixture.events(.analysisJudged).filter { $0.fields["analysis"] != "failFast" }
            for event in judged where event.fields["verdict"] == "inconclusive" {
                for check in Self.queryChecks(event.fields).values {
                    #expect(check["reason"] != nil, "\(check)")
                }
            }
            #expect(judged.allSatisfy { $0.fields["verdict"] != "pass" })
            print(
                "Prometheus checks: a candidate answering 30% errors rolled back "
                    + "\(String(format: "%.1f", seconds)) s after the deploy: \(outcome.reason ?? "")"
            )
            try await fixture.stop()
        }

        @Test func anABTestsQueryGoalIsAskedAboutEachVariant() async throws {
            // B converts twice as often; the app's own counter, per version, is the goal.
            let (outcome, fixture, seconds) = try await rollout(
                strategy: """
                    abTest:
                      weight: 50
                      goals:
                        - {name: conversions, query: 'sum(rate(demo_conversions_total{version="{version}"}[5s]))'}
                      duration: 15s
                    """,
                analysis: "interval: 1s\nchecks: []\nfailFast: []\ncompare: [errorRate]",
                env: ["DEMO_CONVERSION_RATE": "0.1"],
                candidateEnv: ["DEMO_CONVERSION_RATE": "0.2"],
                untilTheExperimentConcludes: true
            )
            // The experiment concluded by its duration; nobody chose, so the rollout still runs.
            #expect(outcome.state == "running")
            let concluded = try #require(try fixture.events(.experimentConcluded).first)
            let report = try #require(concluded.fields["report"].flatMap(ExperimentReport.init(json:)))
            let goal = try #require(report.goals.first)
            #expect(goal.name == "conversions")
            let (a, b) = (goal.variants[0], goal.variants[1])
            #expect(a.units >= 5 && b.units >= 5, "\(a.units) and \(b.units) windows with a value")
            #expect(try #require(b.mean) > 1.3 * (try #require(a.mean)), "A \(a.mean ?? 0), B \(b.mean ?? 0)")
            #expect(goal.comparisons[0].verdict == .inconclusive)
            #expect(goal.comparisons[0].reason == "fewer than 100 windows with a value in a variant")
            print(
                "Prometheus goal: \(a.units) and \(b.units) windows, conversions/s A \(a.mean ?? 0), B \(b.mean ?? 0) "
                    + "(\(String(format: "%.1f", seconds)) s)"
            )
            _ = try await fixture.controller.command(app: "shop", .abort, by: "test")
            _ = try await fixture.waitForOutcome(timeout: .seconds(30))
            try await fixture.stop()
        }
    }
}
