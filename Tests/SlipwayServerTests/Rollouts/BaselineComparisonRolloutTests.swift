import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// The comparison with the stable version, through the real proxy and real instances under load.
    @Suite struct BaselineComparisonRolloutTests {
        /// A threshold a team would set against a collapse (under 60% success in a window), and the comparison. The
        /// threshold sits far from the candidate's 10–12% error rate: at 10% weight a one-second window holds ~25
        /// candidate requests, and a tighter line (85%) is crossed by chance in about one window in eight.
        static let analysis = """
            interval: 1s
            minRequests: 10
            checks: []
            failFast: ["successRate >= 60%"]
            compare: [errorRate]
            """

        func start(
            baselineErrorRate: String,
            sticky: Bool = false,
            threshold: Bool = true
        ) async throws -> (ControllerFixture, LoadClient) {
            let fixture = try await ControllerFixture(
                yaml: ControllerFixture.demoConfig(
                    extra: RolloutConfig.app(
                        strategy: """
                            canary:
                              steps:
                                - weight: 10
                                - pause: 40s
                            \(sticky ? "  stickiness: {header: X-User}" : "")
                            """,
                        // With sticky users the point is the per-user comparison, and in an incident the comparison
                        // alone, so no threshold races it.
                        analysis: sticky || !threshold
                            ? Self.analysis.replacingOccurrences(of: #"["successRate >= 60%"]"#, with: "[]")
                            : Self.analysis
                    ),
                    env: ["DEMO_ERROR_RATE": baselineErrorRate]
                )
            )
            try await fixture.waitUntilServing()
            // Sticky users come back: 3,000 of them over the rollout.
            let load = LoadClient(port: fixture.port, userHeader: sticky ? "X-User" : nil, users: 3_000)
            await load.waitFor(200)
            return (fixture, load)
        }

        static func evidence(_ fields: [String: JSONValue]) -> [String: JSONValue]? {
            guard case .array(let comparisons)? = fields["comparisons"], case .object(let evidence)? = comparisons.first
            else { return nil }
            return evidence
        }

        /// Deploys 2.0.0 answering `candidateErrorRate` against a baseline at `baselineErrorRate`, expects the
        /// comparison to roll it back, and returns the decisive judgement and its evidence (the fixture still runs).
        func rolledBackByTheComparison(
            baselineErrorRate: String,
            candidateErrorRate: String,
            sticky: Bool = false
        ) async throws -> (ControllerFixture, LoadClient, RecordedEvent, [String: JSONValue]) {
            let (fixture, load) = try await start(baselineErrorRate: baselineErrorRate, sticky: sticky)
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: ["DEMO_ERROR_RATE": candidateErrorRate], by: "test")
            )
            let outcome = try await fixture.waitForOutcome(timeout: .seconds(60))
            await load.stop()
            #expect(outcome.state == "rolledBack")
            #expect(
                outcome.reason?.hasPrefix("the comparison with 1.0.0 found harm") == true,
                "\(outcome.reason ?? "")"
            )
            let judged = try #require(try fixture.events(.analysisJudged).first { $0.fields["analysis"] == "compare" })
            return (fixture, load, judged, try #require(Self.evidence(judged.fields)))
        }

        @Test func twiceTheBaselinesErrorsAtTenPercentAreRolledBackByTheComparison() async throws {
            let (fixture, load, judged, evidence) = try await rolledBackByTheComparison(
                baselineErrorRate: "0.05",
                candidateErrorRate: "0.1"
            )
            #expect((evidence["maxEValue"]?.numberValue ?? 0) >= 100)
            #expect((evidence["pValue"]?.numberValue ?? 1) <= 0.01)
            guard case .object(let candidate)? = evidence["candidate"],
                case .object(let baseline)? = evidence["baseline"]
            else {
                Issue.record("no samples in \(evidence)")
                return
            }
            let candidateRequests = candidate["requests"]?.intValue ?? 0
            let candidateErrors = candidate["events"]?.intValue ?? 0
            #expect(candidateRequests > 0)
            #expect((baseline["requests"]?.intValue ?? 0) > 5 * candidateRequests)
            // The threshold never fired, and over the whole sample the candidate stayed well above it.
            #expect(Double(candidateErrors) / Double(max(1, candidateRequests)) < 0.15)
            #expect(try fixture.events(.analysisJudged).allSatisfy { $0.fields["analysis"] != "failFast" })
            let firstCandidate = load.all.filter { $0.version == "2.0.0" }.map(\.at).min() ?? 0
            print(
                "baseline comparison: 2× errors (5% → 10%) at 10% weight found after \(candidateRequests) candidate "
                    + "requests, \(String(format: "%.1f", judged.time.timeIntervalSince(load.began) - firstCandidate)) s "
                    + "after the candidate took traffic; e = \(evidence["maxEValue"]?.numberValue ?? 0), "
                    + "interval \(evidence["ratioInterval"]?.description ?? "?")"
            )
            try await fixture.stop()
        }

        @Test func anIncidentOnBothVersionsDoesNotRollTheCandidateBack() async throws {
            // Both versions answer 10% errors for the whole rollout: the comparison sees no difference.
            let (fixture, load) = try await start(baselineErrorRate: "0.1", threshold: false)
            _ = try await fixture.controller.deploy(
                app: "shop",
                DeployRequest(version: "2.0.0", env: ["DEMO_ERROR_RATE": "0.1"], by: "test")
            )
            try await waitUntil("the candidate to take traffic") { load.served(by: "2.0.0").count > 20 }
            try await Task.sleep(for: .seconds(12))
            let summary = try #require(try await fixture.controller.rollout(app: "shop"))
            await load.stop()
            #expect(summary.state == "running", "\(summary.reason ?? "")")
            #expect(try fixture.events(.rolloutRollingBack).isEmpty)
            let judged = try fixture.events(.analysisJudged)
            #expect(judged.allSatisfy { $0.fields["verdict"] != "fail" })
            try await fixture.stop()
        }

        @Test func stickyUsersAreJudgedOncePerUserAndAWorseCandidateIsStillFound() async throws {
            // 4× the errors.
            let (fixture, _, _, evidence) = try await rolledBackByTheComparison(
                baselineErrorRate: "0.03",
                candidateErrorRate: "0.12",
                sticky: true
            )
            guard case .array(let notes)? = evidence["assumptions"],
                case .object(let candidate)? = evidence["candidate"]
            else {
                Issue.record("no assumptions or sample in \(evidence)")
                return
            }
            #expect(notes.contains { $0.stringValue?.contains("errorRate is judged per user") == true })
            // Units are users: fewer than the candidate's requests, as users came back.
            let users = candidate["requests"]?.intValue ?? 0
            #expect(users > 0)
            let sample = try #require(await fixture.controller.listener(of: "shop")?.sample())
            let traffic = try #require(sample.versions["2.0.0"])
            let units = try #require(traffic.units)
            #expect(units.units < traffic.requests, "\(units.units) users of \(traffic.requests) requests")
            let requests = traffic.requests
            print(
                "sticky comparison: 4× errors (3% → 12%) at 10% weight found after \(users) candidate users "
                    + "(\(requests) requests); e = \(evidence["maxEValue"]?.numberValue ?? 0)"
            )
            try await fixture.stop()
        }
    }
}
