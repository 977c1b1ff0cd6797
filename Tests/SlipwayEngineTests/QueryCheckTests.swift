import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// PromQL query checks: judged on the answer the executor put in the window; no answer is never a pass.
@Suite struct QueryCheckTests {
    typealias H = RolloutHarness

    static let errorRatio = AnalysisCheck(
        metric: .query,
        comparison: .lessThanOrEqual,
        threshold: 0.05,
        text: "error ratio",
        query: "sum(rate(errors{version=\"{version}\"}[{window}]))"
    )
    static let orders = AnalysisCheck(
        metric: .query,
        comparison: .greaterThanOrEqual,
        threshold: 10,
        minRequests: 50,
        text: "orders",
        query: "sum(orders)"
    )

    /// Answers to queries about the candidate, 2.0.0.
    static func aboutTheCandidate(_ answers: [String: QueryAnswer]) -> [QueryRequest: QueryAnswer] {
        Dictionary(uniqueKeysWithValues: answers.map { (QueryRequest($0.key, version: "2.0.0"), $0.value) })
    }

    /// One field of a check's evidence.
    static func field(_ result: CheckResult, _ key: String) -> JSONValue? {
        guard case .object(let fields) = result.fields else { return nil }
        return fields[key]
    }

    func judge(_ checks: [AnalysisCheck], _ answers: [String: QueryAnswer], requests: Int = 100) -> WindowJudgement {
        WindowJudgement(
            checks: checks,
            minRequests: 20,
            version: "2.0.0",
            window: MetricsWindow(
                start: Moment(.seconds(0)),
                end: Moment(.seconds(2)),
                versions: ["2.0.0": VersionWindow(requests: requests, errors: 0)],
                queries: Self.aboutTheCandidate(answers)
            )
        )
    }

    @Test func aValueIsJudgedAgainstItsBound() {
        let query = Self.errorRatio.query!
        let pass = judge([Self.errorRatio], [query: .value(0.01)])
        #expect(pass.verdict == .pass)
        #expect(Self.field(pass.results[0], "value") == "0.01")
        #expect(Self.field(pass.results[0], "query") == .string(query))
        let fail = judge([Self.errorRatio], [query: .value(0.2)])
        #expect(fail.verdict == .fail)
        #expect(fail.summary.contains("error ratio"))
    }

    @Test func noAnswerIsInconclusiveWithItsReasonNeverAPass() {
        let query = Self.errorRatio.query!
        for (answers, reason) in [
            ([query: QueryAnswer.unavailable("the query returned no data")], "the query returned no data"),
            ([:], "the query was not evaluated"),
        ] {
            let judgement = judge([Self.errorRatio], answers)
            #expect(judgement.verdict == .inconclusive)
            #expect(Self.field(judgement.results[0], "reason") == .string(reason))
            #expect(judgement.results[0].value == nil)
        }
    }

    @Test func aQueryCheckWithItsOwnMinimumWaitsForTheRequests() {
        let few = judge([Self.orders], ["sum(orders)": .value(30)], requests: 40)
        #expect(few.verdict == .inconclusive)
        #expect(Self.field(few.results[0], "reason") == "40 of 50 requests needed")
        #expect(judge([Self.orders], ["sum(orders)": .value(30)], requests: 50).verdict == .pass)
        // Without a minimum of its own a query check does not wait for the analysis' minRequests.
        #expect(judge([Self.errorRatio], [Self.errorRatio.query!: .value(0)], requests: 3).verdict == .pass)
    }

    func started(failFast: [AnalysisCheck] = []) -> H {
        let analysis = AnalysisSpec(checks: [Self.errorRatio, Self.orders], failFast: failFast)
        var harness = H(
            H.plan(
                .canary(CanarySpec(steps: [.weight(percent(10)), .analysis(AnalysisStepSpec(windows: 2))])),
                analysis: analysis
            )
        )
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    /// A window in which the queries answered `answers`.
    static func window(_ harness: inout H, _ answers: [String: QueryAnswer]) {
        let start = harness.now
        harness.advance(.seconds(2))
        let versions = [
            "1.0.0": VersionWindow(requests: 900, errors: 0),
            "2.0.0": VersionWindow(requests: 100, errors: 0),
        ]
        harness.feed(
            .metrics(
                MetricsWindow(start: start, end: harness.now, versions: versions, queries: aboutTheCandidate(answers)),
                preview: nil
            )
        )
    }

    @Test func theMachineAsksForTheQueriesOfItsStepAndFailFastOnceEach() {
        let fast = AnalysisCheck(metric: .query, comparison: .lessThanOrEqual, threshold: 1, text: "q", query: "up")
        let harness = started(failFast: [fast, Self.orders])
        #expect(harness.machine.currentStep == .analysis(AnalysisStepSpec(windows: 2), preview: false))
        #expect(
            Set(harness.machine.queries)
                == Set(["up", Self.errorRatio.query!, "sum(orders)"].map { QueryRequest($0, version: "2.0.0") })
        )
        #expect(harness.machine.queries.count == 3)
    }

    @Test func unansweredQueriesHoldTheStepUntilItsDeadline() {
        var harness = started()
        for _ in 0..<5 {
            Self.window(&harness, [Self.errorRatio.query!: .unavailable("Prometheus refused the query: bad_data")])
        }
        #expect(harness.machine.rollback == nil)
        #expect(harness.machine.currentStep == .analysis(AnalysisStepSpec(windows: 2), preview: false))
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "inconclusive")
        harness.advance(.seconds(60))
        harness.feed(.timerFired)
        let reason = harness.machine.rollback?.reason ?? ""
        #expect(reason.contains("inconclusive"), "\(reason)")
        #expect(reason.contains("Prometheus refused the query: bad_data"), "\(reason)")
    }

    @Test func answeredQueriesPassTheStepOrRollTheCandidateBack() {
        var good = started()
        let answers: [String: QueryAnswer] = [Self.errorRatio.query!: .value(0.01), "sum(orders)": .value(20)]
        Self.window(&good, answers)
        Self.window(&good, answers)
        #expect(good.machine.rollback == nil)
        #expect(
            good.machine.currentStep == nil
                || good.machine.currentStep != .analysis(AnalysisStepSpec(windows: 2), preview: false)
        )

        var bad = started()
        let failing: [String: QueryAnswer] = [Self.errorRatio.query!: .value(0.3), "sum(orders)": .value(20)]
        Self.window(&bad, failing)
        #expect(bad.machine.rollback?.reason.contains("analysis failed at step") == true)
        guard case .array(let checks)? = bad.last(.rolloutRollingBack)?.fields["checks"],
            case .object(let first)? = checks.first
        else {
            Issue.record("no checks in \(String(describing: bad.last(.rolloutRollingBack)?.fields))")
            return
        }
        #expect(first["query"] == .string(Self.errorRatio.query!))
        #expect(first["value"] == "0.3")
        #expect(first["verdict"] == "fail")
    }
}
