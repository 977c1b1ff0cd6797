import SlipwayConfig
import Testing

@Suite("The abTest strategy")
struct ABTestConfigTests {
    /// The problems of an A/B test with these lines under `abTest:` (from line 10, column 7 on).
    private func problems(_ lines: String) -> [String] {
        let indented = lines.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return ConfigFixtures.appProblems("strategy:\n  abTest:\n" + indented.joined(separator: "\n"))
    }

    @Test func everyKey() throws {
        let yaml = """
            strategy:
              abTest:
                weight: 20%
                instances: 1
                stickiness: { header: X-User-Id }
                match:
                  - header: { name: X-Beta, value: "1" }
                goals:
                  - outcome: converted
                  - { outcome: revenue, minimumEffect: 2% }
                  - success
                  - { metric: latency, better: lower }
                alpha: 1%
                minimumEffect: 10%
                duration: 2h
                sampleSize: 20000
                stopOnDecision: false
            """
        let expected = ABTestSpec(
            weight: Percentage(basisPoints: 2_000),
            instances: .fixed(1),
            match: [MatchSpec(condition: .headerEquals(name: "X-Beta", value: "1"))],
            stickiness: .header("X-User-Id"),
            experiment: ExperimentSpec(
                goals: [
                    ExperimentGoal(metric: .outcome("converted")),
                    ExperimentGoal(metric: .outcome("revenue"), minimumEffect: 0.02),
                    ExperimentGoal(metric: .success),
                    ExperimentGoal(metric: .latency, better: .lower),
                ],
                alpha: 0.01,
                minimumEffect: 0.1,
                duration: .seconds(7_200),
                sampleSize: 20_000,
                stopOnDecision: false
            )
        )
        let strategy = try ConfigFixtures.app(yaml).strategy
        #expect(strategy == StrategySpec(kind: .abTest(expected)))
        #expect(strategy.name == "abTest")
    }

    @Test func defaults() throws {
        let strategy = try ConfigFixtures.app("strategy:\n  abTest: {}").strategy
        #expect(strategy.kind == .abTest(ABTestSpec()))
        guard case .abTest(let spec) = strategy.kind else { return }
        #expect(spec.weight == nil)
        #expect(spec.variantShare(variants: 1) == 5_000)
        #expect(spec.variantShare(variants: 2) == 3_333)
        #expect(spec.experiment.goals == [ExperimentGoal(metric: .success)])
        #expect(spec.experiment.alpha == 0.05)
        #expect(spec.experiment.stopOnDecision)
        #expect(ExperimentGoal(metric: .latency).better == .lower)
    }

    @Test func badValuesSayWhereAndWhat() {
        #expect(
            problems("weight: 100") == [
                "slipway.yaml:10:17: apps[0].strategy.abTest.weight: expected a share per variant above 0 and below 100, "
                    + "like 50 or 10%, got 100"
            ]
        )
        #expect(
            problems("goals: [converted]") == [
                "slipway.yaml:10:17: apps[0].strategy.abTest.goals[0]: expected `success`, `latency` or a mapping like "
                    + "{outcome: converted}, got \"converted\"; an outcome the app reports is written "
                    + "{outcome: converted}"
            ]
        )
        #expect(
            problems("goals: [success, success]") == [
                "slipway.yaml:10:26: apps[0].strategy.abTest.goals[1]: goal `success` is listed twice"
            ]
        )
        #expect(
            problems("goals: [{outcome: success}]") == [
                "slipway.yaml:10:27: apps[0].strategy.abTest.goals[0].outcome: `success` is the name of a goal the "
                    + "proxy measures itself; write it as `success`, or give the app's outcome another name"
            ]
        )
        #expect(
            problems("goals: []") == [
                "slipway.yaml:10:16: apps[0].strategy.abTest.goals: expected at least one goal, got an empty list"
            ]
        )
        #expect(
            problems("goals: [{outcome: \"a b\"}]") == [
                "slipway.yaml:10:27: apps[0].strategy.abTest.goals[0].outcome: expected an outcome name like "
                    + "converted, got \"a b\""
            ]
        )
        #expect(
            problems("goals: [{outcome: x, better: more}]") == [
                "slipway.yaml:10:38: apps[0].strategy.abTest.goals[0].better: expected `higher` or `lower`, got \"more\""
            ]
        )
        #expect(
            problems("sampleSize: 10") == [
                "slipway.yaml:10:21: apps[0].strategy.abTest.sampleSize: expected an integer from 100 to 100000000, "
                    + "got 10"
            ]
        )
        #expect(
            problems("alpha: 50%") == [
                "slipway.yaml:10:16: apps[0].strategy.abTest.alpha: expected a level like 1% or 5% (above 0%, at most "
                    + "20%), got \"50%\""
            ]
        )
    }

    @Test func aQueryGoalIsNamedAndNeedsAPrometheus() throws {
        let goals = """
            strategy:
              abTest:
                goals:
                  - {query: 'sum(rate(orders_total{version="{version}"}[{window}]))', name: orders}
            """
        let config = try ConfigFixtures.parse(
            "controller:\n  prometheus: http://127.0.0.1:9090\n" + ConfigFixtures.appProblemsYAML(goals)
        )
        guard case .abTest(let spec) = config.apps[0].strategy.kind else {
            Issue.record("not an A/B test")
            return
        }
        let goal = try #require(spec.experiment.goals.first)
        #expect(goal.metric == .query(#"sum(rate(orders_total{version="{version}"}[{window}]))"#))
        #expect(goal.name == "orders")
        #expect(goal.better == .higher)
        #expect(
            ConfigFixtures.appProblems(goals) == [
                "slipway.yaml:11:21: apps[0].strategy.abTest.goals[0].query: a PromQL `query` needs "
                    + "`controller.prometheus`, the Prometheus to ask; none is configured"
            ]
        )
        #expect(
            problems("goals: [{query: up}, {outcome: converted, name: c}, {query: 'x{v=\"{versio}\"}', name: x}]") == [
                "slipway.yaml:10:17: apps[0].strategy.abTest.goals[0]: a `query` goal needs a `name` for the report, "
                    + "like orders",
                "slipway.yaml:10:51: apps[0].strategy.abTest.goals[1].name: `name` is only for `query` goals; the "
                    + "others are named by what they measure",
                "slipway.yaml:10:69: apps[0].strategy.abTest.goals[2].query: unknown placeholder `{versio}`; did you "
                    + "mean `{version}`?",
            ]
        )
    }
}
