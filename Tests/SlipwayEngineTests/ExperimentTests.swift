import AnalysisSimulation
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct MeanDifferenceTests {
    /// Sums of `count` units of which `successes` are 1 and the rest 0.
    static func rate(_ successes: Int, of count: Int) -> UnitSums {
        UnitSums(count: count, sum: Double(successes), sumOfSquares: Double(successes))
    }

    @Test func belowTheMinimumSampleThereIsNoEstimate() {
        let test = MeanDifference(alpha: 0.05, expectedUnits: 10_000)
        #expect(test.estimate(control: Self.rate(10, of: 99), variant: Self.rate(20, of: 500)) == nil)
        #expect(test.interval(of: Self.rate(10, of: 99)) == nil)
    }

    @Test func aClearDifferenceHasAnIntervalAboveZeroAroundTheTruth() throws {
        let test = MeanDifference(alpha: 0.05, expectedUnits: 10_000)
        let estimate = try #require(
            test.estimate(control: Self.rate(500, of: 5_000), variant: Self.rate(750, of: 5_000))
        )
        #expect(abs(estimate.difference - 0.05) < 1e-12)
        #expect(estimate.lower > 0)
        #expect(estimate.lower < 0.05 && estimate.upper > 0.05)
        #expect(estimate.eValue >= 20)
    }

    @Test func theIntervalIsWiderThanAFixedSampleOneAndShrinksWithData() throws {
        let test = MeanDifference(alpha: 0.05, expectedUnits: 10_000)
        let small = try #require(test.estimate(control: Self.rate(100, of: 1_000), variant: Self.rate(100, of: 1_000)))
        let large = try #require(
            test.estimate(control: Self.rate(1_000, of: 10_000), variant: Self.rate(1_000, of: 10_000))
        )
        // A fixed-sample 95% interval at 1,000 per arm is ±1.96 · √(2 · 0.09 / 1000) ≈ ±0.0263.
        #expect(small.upper - small.difference > 0.0263)
        #expect(large.upper - large.difference < small.upper - small.difference)
        #expect(small.eValue < 1 && large.eValue < 1)
    }
}

@Suite struct SampleRatioCheckTests {
    @Test func aSplitAsConfiguredIsNotAMismatch() {
        var check = SampleRatioCheck(shares: [0.5, 0.5])
        for _ in 0..<50 { check.observe([101, 99]) }
        #expect(!check.mismatched)
        #expect(check.pValue > 0.01)
    }

    @Test func fiftyFiveToFortyFiveIsAMismatchOfAFiftyFiftySplit() {
        var check = SampleRatioCheck(shares: [0.5, 0.5])
        for _ in 0..<50 { check.observe([110, 90]) }
        #expect(check.mismatched)
        #expect(check.pValue < 0.001)
    }

    @Test func unequalSharesAreTheExpectation() {
        var check = SampleRatioCheck(shares: [0.9, 0.1])
        for _ in 0..<50 { check.observe([180, 20]) }
        #expect(!check.mismatched)
    }
}

@Suite struct ExperimentTests {
    static let spec = ExperimentSpec(goals: [
        ExperimentGoal(metric: .outcome("converted")), ExperimentGoal(metric: .success),
    ])

    static func window(
        at index: Int,
        a: (requests: Int, converted: Int),
        b: (requests: Int, converted: Int)
    )
        -> MetricsWindow
    {
        func version(_ figures: (requests: Int, converted: Int)) -> VersionWindow {
            let converted = Double(figures.converted)
            return VersionWindow(
                requests: figures.requests,
                errors: 0,
                outcomes: [
                    "converted": OutcomeTally(responses: figures.converted, sum: converted, sumOfSquares: converted)
                ]
            )
        }
        return MetricsWindow(
            start: Moment(.seconds(10 * index)),
            end: Moment(.seconds(10 * index + 10)),
            versions: ["1.0.0": version(a), "2.0.0": version(b)]
        )
    }

    static func experiment(_ spec: ExperimentSpec = spec) -> Experiment {
        Experiment(
            spec: spec,
            app: "shop",
            rollout: 3,
            variants: [
                Experiment.Variant(name: "A", version: "1.0.0", share: 0.5),
                Experiment.Variant(name: "B", version: "2.0.0", share: 0.5),
            ],
            at: .zero
        )
    }

    @Test func aHigherConversionIsBetterWithAnIntervalExcludingZero() throws {
        var experiment = Self.experiment()
        for index in 0..<30 { experiment.observe(Self.window(at: index, a: (200, 20), b: (200, 40))) }
        let now = Moment(.seconds(300))
        let report = experiment.report(at: now)
        let goal = try #require(report.goals.first)
        #expect(goal.name == "converted")
        #expect(goal.variants.map(\.units) == [6_000, 6_000])
        let comparison = try #require(goal.comparisons.first)
        #expect(comparison.verdict == .better)
        #expect(try #require(comparison.lower) > 0)
        #expect(abs(try #require(comparison.relative) - 1) < 1e-9)
        #expect(comparison.pValue <= 0.05)
        #expect(report.summary.hasPrefix("B better on converted (+100%"))
        #expect(experiment.endCondition(at: now) == "the primary goal `converted` is decided")
        #expect(report.split.mismatched == false)
    }

    @Test func lowerIsBetterTurnsTheVerdictForLatency() throws {
        var spec = ExperimentSpec(goals: [ExperimentGoal(metric: .latency)])
        spec.stopOnDecision = false
        var experiment = Self.experiment(spec)
        for index in 0..<20 {
            let fast = VersionWindow(
                requests: 200,
                errors: 0,
                latencyCounts: LatencyCounts([(10_000, 100), (20_000, 100)])
            )
            let slow = VersionWindow(
                requests: 200,
                errors: 0,
                latencyCounts: LatencyCounts([(20_000, 100), (40_000, 100)])
            )
            experiment.observe(
                MetricsWindow(
                    start: Moment(.seconds(index)),
                    end: Moment(.seconds(index + 1)),
                    versions: ["1.0.0": fast, "2.0.0": slow]
                )
            )
        }
        let goal = try #require(experiment.report(at: Moment(.seconds(20))).goals.first)
        #expect(goal.better == "lower")
        #expect(goal.variants[0].mean == 15)
        #expect(goal.variants[1].mean == 30)
        #expect(goal.comparisons.first?.verdict == .worse)
        #expect(experiment.endCondition(at: Moment(.seconds(20))) == nil)
    }

    @Test func aSkewedSplitWithdrawsEveryVerdict() throws {
        var experiment = Self.experiment()
        for index in 0..<30 { experiment.observe(Self.window(at: index, a: (260, 26), b: (140, 28))) }
        let report = experiment.report(at: Moment(.seconds(300)))
        #expect(report.split.mismatched)
        #expect(report.goals.allSatisfy { $0.comparisons.allSatisfy { $0.verdict == .inconclusive } })
        #expect(report.summary.contains("the split is off"))
        #expect(experiment.endCondition(at: Moment(.seconds(300))) == nil)
    }

    @Test func theSampleSizeAndTheDurationEndIt() {
        var spec = Self.spec
        spec.sampleSize = 1_000
        spec.duration = .seconds(600)
        var experiment = Self.experiment(spec)
        experiment.observe(Self.window(at: 0, a: (900, 90), b: (900, 90)))
        #expect(experiment.endCondition(at: Moment(.seconds(10))) == nil)
        experiment.observe(Self.window(at: 1, a: (100, 10), b: (100, 10)))
        #expect(
            experiment.endCondition(at: Moment(.seconds(20)))
                == "every variant reached the sample size of 1000 requests"
        )
        #expect(Self.experiment(spec).endCondition(at: Moment(.seconds(600))) == "it ran for its duration of 10m")
    }

    @Test func theVerdictReadsTheConfidenceSequenceSoFarAndDoesNotFlipBack() throws {
        var experiment = Self.experiment(ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))]))
        var index = 0
        while experiment.report(at: .zero).primaryVerdict != .better, index < 200 {
            experiment.observe(Self.window(at: index, a: (200, 20), b: (200, 40)))
            index += 1
        }
        #expect(experiment.report(at: .zero).primaryVerdict == .better)
        var lowest = try #require(experiment.report(at: .zero).goals[0].comparisons[0].lower)
        // B falls back to A's rate: the latest interval soon holds 0, the sequence so far does not.
        for step in 0..<50 {
            experiment.observe(Self.window(at: index + step, a: (200, 20), b: (200, 20)))
            let comparison = experiment.report(at: .zero).goals[0].comparisons[0]
            #expect(comparison.verdict == .better)
            let lower = try #require(comparison.lower)
            #expect(lower >= lowest)
            lowest = lower
            #expect(comparison.pValue <= 0.05)
        }
    }

    @Test func noMeaningfulDifferenceHoldsAgainstTheLowEndOfTheControlsInterval() throws {
        // Identical rates, a generous minimum effect: the margin is 50% of A's lowest plausible rate, not of its mean.
        var experiment = Self.experiment(
            ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))], minimumEffect: 0.5)
        )
        for index in 0..<400 {
            experiment.observe(Self.window(at: index, a: (200, 20), b: (200, 20)))
            let report = experiment.report(at: .zero)
            let comparison = report.goals[0].comparisons[0]
            guard comparison.verdict == .noMeaningfulDifference else { continue }
            let control = report.goals[0].variants[0]
            let margin = 0.5 * (try #require(control.lower))
            #expect(try #require(comparison.lower) > -margin)
            #expect(try #require(comparison.upper) < margin)
            return
        }
        Issue.record("identical variants never reached no meaningful difference")
    }

    @Test func aQueryGoalCountsOneUnitPerWindowWithAValueForEachVariant() throws {
        let query = #"sum(rate(orders_total{version="{version}"}[{window}]))"#
        var experiment = Self.experiment(
            ExperimentSpec(goals: [ExperimentGoal(metric: .query(query), queryName: "orders")])
        )
        var generator = SeededGenerator(seed: 11)
        for index in 0..<150 {
            var window = Self.window(at: index, a: (200, 0), b: (200, 0))
            // A's orders per second around 10, B's around 12; every tenth window Prometheus had nothing for B.
            window.queries[QueryRequest(query, version: "1.0.0")] = .value(
                10 + Double.random(in: -1...1, using: &generator)
            )
            window.queries[QueryRequest(query, version: "2.0.0")] =
                index % 10 == 0
                ? .unavailable("the query returned no data") : .value(12 + Double.random(in: -1...1, using: &generator))
            experiment.observe(window)
        }
        let report = experiment.report(at: .zero)
        let goal = try #require(report.goals.first)
        #expect(goal.name == "orders")
        #expect(goal.variants.map(\.units) == [150, 135])
        #expect(try #require(goal.variants[1].mean) > 11.5)
        #expect(goal.comparisons[0].verdict == .better)
        #expect(report.assumptions.contains { $0.contains("a unit is one window's query value") })
        // The split is still judged on requests.
        #expect(report.split.observed == [30_000, 30_000])
    }

    @Test func aConcludedExperimentCountsNoMore() {
        var experiment = Self.experiment()
        experiment.observe(Self.window(at: 0, a: (200, 20), b: (200, 20)))
        experiment.conclude("promoted by ada", at: Moment(.seconds(10)), awaitingChoice: false)
        experiment.observe(Self.window(at: 1, a: (200, 20), b: (200, 20)))
        let report = experiment.report(at: Moment(.seconds(99)))
        #expect(report.state == "concluded")
        #expect(report.conclusion == "promoted by ada")
        #expect(!report.awaitingChoice)
        #expect(report.elapsedSeconds == 10)
        #expect(report.goals[0].variants.map(\.units) == [200, 200])
    }

    @Test func theReportSurvivesItsJSON() throws {
        var experiment = Self.experiment()
        for index in 0..<10 { experiment.observe(Self.window(at: index, a: (200, 20), b: (200, 30))) }
        let report = experiment.report(at: Moment(.seconds(100)))
        #expect(ExperimentReport(json: report.json) == report)
    }

    // A short, bounded version of the experiments of bench/analysis (seeded: the same runs every time).
    @Test func identicalVariantsAreAlmostNeverCalledBetterOrWorse() {
        let scenario = ExperimentScenario(
            name: "A/A",
            rateA: 0.10,
            rateB: 0.10,
            windows: 300,
            spec: ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))])
        )
        let outcomes = (0..<40).map { scenario.run(seed: UInt64(500 + $0)) }
        let wrong = outcomes.filter { $0.verdict == .better || $0.verdict == .worse }.count
        #expect(wrong <= 2)
    }

    @Test func threeVariantsFindTheBetterOneWithoutCallingTheSameOneDifferent() {
        let scenario = ExperimentScenario(
            name: "A/A/C",
            rates: [0.10, 0.10, 0.13],
            shares: [0.3334, 0.3333, 0.3333],
            requestsPerWindow: 300,
            windows: 300,
            spec: ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))])
        )
        let outcomes = (0..<20).map { scenario.run(seed: UInt64(900 + $0)) }
        #expect(outcomes.allSatisfy { $0.verdicts.count == 2 })
        #expect(outcomes.filter { $0.verdicts.last == .better }.count >= 18)
        #expect(outcomes.filter { $0.verdicts.first == .better || $0.verdicts.first == .worse }.count <= 1)
        // Each comparison is made at α / 2.
        #expect(outcomes[0].report.goals[0].comparisons.allSatisfy { abs($0.alpha - 0.025) < 1e-12 })
    }

    @Test func aTwentyPercentLiftIsFound() throws {
        let scenario = ExperimentScenario(
            name: "B +20%",
            rateA: 0.10,
            rateB: 0.12,
            windows: 600,
            spec: ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))])
        )
        let outcomes = (0..<20).map { scenario.run(seed: UInt64(700 + $0)) }
        #expect(outcomes.filter { $0.verdict == .better }.count >= 18)
        #expect(outcomes.allSatisfy { $0.verdict != .worse })
    }
}
