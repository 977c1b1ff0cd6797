import AnalysisSimulation
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RateRatioTestTests {
    @Test func withoutEventsThereIsNoEvidenceAndNoBound() {
        var test = RateRatioTest(alpha: 0.01)
        test.observe(candidate: 0, baseline: 0, candidateRequests: 100, baselineRequests: 900)
        #expect(test.eValue == 1)
        #expect(test.pValue == 1)
        #expect(test.interval.lower == 0)
        #expect(test.interval.upper == .infinity)
        #expect(!test.harmful)
    }

    @Test func twiceTheBaselinesRateIsHarmAndTheIntervalHoldsTheTruth() {
        var test = RateRatioTest(alpha: 0.01)
        // 10% of requests; the candidate's rate 2% against 1%.
        for _ in 0..<40 { test.observe(candidate: 4, baseline: 18, candidateRequests: 200, baselineRequests: 1_800) }
        #expect(test.harmful)
        #expect(test.maxEValue >= 100)
        #expect(test.pValue <= 0.01)
        #expect(test.interval.lower > 1)
        #expect(test.interval.lower < 2 && test.interval.upper > 2)
        #expect(test.estimate == 2)
    }

    @Test func anIncidentThatHitsBothVersionsAlikeIsNoEvidence() {
        var test = RateRatioTest(alpha: 0.01)
        for _ in 0..<20 { test.observe(candidate: 1, baseline: 9, candidateRequests: 100, baselineRequests: 900) }
        // Both at 30% errors for a while: the candidate's share of the errors stays its share of requests.
        for _ in 0..<20 { test.observe(candidate: 30, baseline: 270, candidateRequests: 100, baselineRequests: 900) }
        #expect(!test.harmful)
        #expect(test.eValue < 1)
        #expect(test.interval.lower < 1 && test.interval.upper > 1)
    }

    @Test func aRatioWithinTheBoundIsShownNoWorseGivenEnoughEvidence() {
        var test = RateRatioTest(alpha: 0.01, bound: 1.5)
        #expect(!test.noWorse)
        for _ in 0..<400 {
            test.observe(candidate: 10, baseline: 90, candidateRequests: 1_000, baselineRequests: 9_000)
        }
        #expect(!test.harmful)
        #expect(test.noWorse)
        #expect(test.interval.upper <= 1.5)
    }
}

@Suite struct BaselineComparisonSimulationTests {
    // A short, bounded version of bench/analysis (seeded: the same runs every time).
    @Test func identicalCandidatesAreNotRolledBackEvenThroughAnIncident() {
        let scenario = Scenario(
            name: "A/A",
            ratio: 1,
            stages: [
                .init(weight: 0.05, windows: 60), .init(weight: 0.25, windows: 60), .init(weight: 0.5, windows: 60),
            ],
            incident: .init(firstWindow: 70, windows: 30, errorRate: 0.2)
        )
        let tally = Tally.of(scenario, runs: 40) { ComparisonJudge(alpha: 0.01) }
        #expect(tally.detections.count <= 1)
        // Today's threshold checks roll back almost every one of them.
        let thresholds = Tally.of(scenario, runs: 40) {
            ThresholdJudge(checks: AnalysisSpec().failFast + AnalysisSpec().checks)
        }
        #expect(thresholds.rate > 0.9)
    }

    @Test func fiveTimesTheErrorsAreFoundWithinAFewHundredCandidateRequests() {
        let scenario = Scenario(name: "5×", ratio: 5, stages: [.init(weight: 0.1, windows: 300)])
        let tally = Tally.of(scenario, runs: 30) { ComparisonJudge(alpha: 0.01) }
        #expect(tally.rate == 1)
        #expect((tally.median ?? .max) < 400)
    }
}

@Suite struct RolloutComparisonTests {
    static func plan() -> RolloutPlan {
        var analysis = AnalysisSpec(interval: .seconds(1))
        analysis.failFast = []
        analysis.compare = [ComparisonCheck(metric: .errorRate)]
        return RolloutHarness.plan(
            .canary(CanarySpec(steps: [.weight(Percentage(basisPoints: 1_000)), .pause(.seconds(3_000))])),
            analysis: analysis
        )
    }

    func window(_ second: Int, candidateErrors: Int, baselineErrors: Int) -> MetricsWindow {
        MetricsWindow(
            start: Moment(.seconds(second)),
            end: Moment(.seconds(second + 1)),
            versions: [
                "1.0.0": VersionWindow(requests: 1_800, errors: baselineErrors),
                "2.0.0": VersionWindow(requests: 200, errors: candidateErrors),
            ]
        )
    }

    func runningCanary() -> RolloutHarness {
        var harness = RolloutHarness(Self.plan())
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    @Test func twiceTheBaselinesErrorsRollBackWithTheEvidence() throws {
        var harness = runningCanary()
        #expect(harness.machine.routes.percentages["2.0.0"] == 10)
        var second = 10
        while harness.machine.rollback == nil, second < 100 {
            harness.now = Moment(.seconds(second))
            harness.feed(.metrics(window(second, candidateErrors: 4, baselineErrors: 18), preview: nil))
            second += 1
        }
        let reason = try #require(harness.machine.rollback?.reason)
        #expect(reason.hasPrefix("the comparison with 1.0.0 found harm: errorRate vs stable (no increase)"))
        let judged = try #require(harness.last(.analysisJudged))
        #expect(judged.fields["analysis"] == "compare")
        guard case .array(let comparisons)? = judged.fields["comparisons"],
            case .object(let evidence)? = comparisons.first
        else {
            Issue.record("no comparison evidence in \(judged.fields)")
            return
        }
        #expect((evidence["maxEValue"]?.numberValue ?? 0) >= 100)
        #expect((evidence["pValue"]?.numberValue ?? 1) <= 0.01)
        #expect(evidence["standing"] == "harm")
        guard case .object(let candidate)? = evidence["candidate"] else {
            Issue.record("no candidate sample in \(evidence)")
            return
        }
        #expect((candidate["requests"]?.intValue ?? 0) > 0)
        #expect(evidence["ratioInterval"] != nil)
    }

    @Test func anIncidentOnBothVersionsDoesNotRollBack() {
        var harness = runningCanary()
        for second in 10..<70 {
            harness.now = Moment(.seconds(second))
            // 20% errors on both versions for the whole minute.
            harness.feed(.metrics(window(second, candidateErrors: 40, baselineErrors: 360), preview: nil))
        }
        #expect(harness.machine.rollback == nil)
        #expect(harness.machine.comparison?.harmful.isEmpty == true)
    }
}

@Suite struct StatusClassAndTailComparisonTests {
    func window(_ candidate: VersionWindow, _ baseline: VersionWindow) -> MetricsWindow {
        MetricsWindow(start: .zero, end: .zero, versions: ["2.0": candidate, "1.0": baseline])
    }

    func traffic(requests: Int, classes: [Int] = [], latencies: [(UInt64, Int)] = []) -> VersionWindow {
        VersionWindow(
            requests: requests,
            errors: classes.count > 5 ? classes[5] : 0,
            classes: classes,
            latencyCounts: LatencyCounts(latencies.map { (micros: $0.0, count: $0.1) })
        )
    }

    /// A statusClasses comparison fed 30 windows of these class counts (index = class digit).
    func classesJudged(candidate: [Int], baseline: [Int], minRequests: Int = 500) -> BaselineComparison {
        var comparison = BaselineComparison(
            checks: [ComparisonCheck(metric: .statusClasses, minRequests: minRequests)],
            alpha: 0.01,
            candidate: "2.0",
            baseline: "1.0"
        )
        for _ in 0..<30 {
            comparison.observe(
                window(
                    traffic(requests: candidate.reduce(0, +), classes: candidate),
                    traffic(requests: baseline.reduce(0, +), classes: baseline)
                )
            )
        }
        return comparison
    }

    @Test func aCandidateAnswering404WhereTheStableAnswers200IsHarm() {
        // No 5xx at all: the error rate would not move. 10% of the candidate's answers are 404s.
        let comparison = classesJudged(candidate: [0, 0, 88, 2, 10, 0], baseline: [0, 0, 880, 18, 2, 0])
        let harmful = comparison.harmful
        #expect(harmful.count == 1)
        let decisive = harmful.first?.decisive
        #expect(decisive?.name == "4xx")
        #expect(decisive?.test.direction == .increase)
        #expect(BaselineComparison.summary(harmful[0]).hasPrefix("4xx share"))
    }

    @Test func theSameMixOfClassesIsNoEvidence() {
        let comparison = classesJudged(
            candidate: [0, 0, 90, 5, 4, 1],
            baseline: [0, 0, 810, 45, 36, 9],
            minRequests: 1_000
        )
        #expect(comparison.harmful.isEmpty)
        #expect(comparison.passes)
    }

    @Test func aSlowTailIsFoundAgainstTheStableVersionsFrozenP99() throws {
        var comparison = BaselineComparison(
            checks: [ComparisonCheck(metric: .latency)],
            alpha: 0.01,
            candidate: "2.0",
            baseline: "1.0"
        )
        // Before the candidate takes traffic: the stable version's p99 is 100ms.
        comparison.observe(
            window(traffic(requests: 0), traffic(requests: 1_000, latencies: [(10_000, 985), (100_000, 15)]))
        )
        #expect(comparison.entries[0].limit == .milliseconds(100))
        for _ in 0..<20 {
            comparison.observe(
                window(
                    traffic(requests: 100, latencies: [(10_000, 94), (100_000, 1), (300_000, 5)]),
                    traffic(requests: 900, latencies: [(10_000, 886), (100_000, 13), (120_000, 1)])
                )
            )
        }
        let harmful = try #require(comparison.harmful.first)
        #expect(harmful.decisive?.name == "slower than 100ms")
        #expect(BaselineComparison.summary(harmful).hasPrefix("share slower than 100ms"))
    }
}

@Suite struct SequentialKSTests {
    /// `count` latencies spread evenly over 10–30 ms, times `factor`.
    func latencies(_ count: Int, factor: Double = 1) -> LatencyCounts {
        LatencyCounts(
            (0..<count).map { index in
                (micros: UInt64((10_000 + Double(index % 200) * 100) * factor), count: 1)
            }
        )
    }

    @Test func noBandBeforeAHundredSamples() {
        #expect(SequentialKS.epsilon(samples: 99, level: 0.025) == .infinity)
        // Narrower with more samples.
        #expect(SequentialKS.epsilon(samples: 1_000, level: 0.025) < SequentialKS.epsilon(samples: 200, level: 0.025))
    }

    @Test func aSlowerCandidateIsFoundAndTheSameDistributionIsNot() {
        var slower = SequentialKS(alpha: 0.01)
        var same = SequentialKS(alpha: 0.01)
        for _ in 0..<20 {
            slower.observe(candidate: latencies(100, factor: 1.3), baseline: latencies(900))
            same.observe(candidate: latencies(100), baseline: latencies(900))
        }
        #expect(slower.harmful)
        #expect(slower.largestGap.gap > slower.band)
        #expect(!same.harmful)
        #expect(same.largestGap.gap < 0.01)
        // A faster candidate is not harm: the test is one-sided.
        var faster = SequentialKS(alpha: 0.01)
        for _ in 0..<20 { faster.observe(candidate: latencies(100, factor: 0.7), baseline: latencies(900)) }
        #expect(!faster.harmful)
    }
}

@Suite struct ComparisonUnitJudgingTests {
    func judged(_ windows: Int, candidate: VersionWindow, baseline: VersionWindow) -> BaselineComparison {
        var comparison = BaselineComparison(
            checks: [ComparisonCheck(metric: .errorRate)],
            alpha: 0.01,
            candidate: "2.0",
            baseline: "1.0"
        )
        for _ in 0..<windows {
            comparison.observe(MetricsWindow(start: .zero, end: .zero, versions: ["2.0": candidate, "1.0": baseline]))
        }
        return comparison
    }

    @Test func theErrorRateJudgesUnitsWhenTheDataPlaneCountsThem() {
        // Every request: the candidate fails 10× as often. But those are a few sticky users retrying and requests a
        // rule chose; its units (new users' first requests, sent at random) fail as often as the baseline's.
        let fair = judged(
            60,
            candidate: VersionWindow(requests: 200, errors: 40, units: ComparisonUnits(units: 20, bad: 1)),
            baseline: VersionWindow(requests: 1_800, errors: 36, units: ComparisonUnits(units: 180, bad: 9))
        )
        #expect(fair.harmful.isEmpty)
        // Units that fail 5× as often are harm, whatever the requests say.
        let harmful = judged(
            60,
            candidate: VersionWindow(requests: 200, errors: 2, units: ComparisonUnits(units: 20, bad: 5)),
            baseline: VersionWindow(requests: 1_800, errors: 18, units: ComparisonUnits(units: 180, bad: 9))
        )
        #expect(harmful.harmful.count == 1)
        guard case .array(let evidence) = harmful.fields, case .object(let first)? = evidence.first,
            case .object(let candidate)? = first["candidate"]
        else {
            Issue.record("no evidence in \(harmful.fields)")
            return
        }
        #expect((candidate["requests"]?.intValue ?? 0) <= 20 * 60)
    }

    @Test func unitsCountOnlyWhenBothVersionsHaveThem() {
        // The candidate's units say nothing is wrong, but the baseline's window has none (a data plane handing
        // over): both sides count requests, and the candidate's 10× errors show.
        let comparison = judged(
            60,
            candidate: VersionWindow(requests: 200, errors: 40, units: ComparisonUnits(units: 20, bad: 1)),
            baseline: VersionWindow(requests: 1_800, errors: 36)
        )
        #expect(comparison.harmful.count == 1)
    }

    @Test func withoutUnitsEveryRequestCounts() {
        let comparison = judged(
            60,
            candidate: VersionWindow(requests: 200, errors: 40),
            baseline: VersionWindow(requests: 1_800, errors: 36)
        )
        #expect(comparison.harmful.count == 1)
    }
}
