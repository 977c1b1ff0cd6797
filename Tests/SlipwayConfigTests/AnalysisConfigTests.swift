import SlipwayConfig
import Testing

@Suite("The analysis section and checks")
struct AnalysisConfigTests {
    /// The one check of `checks: [text]`.
    private func check(_ text: String) throws -> AnalysisCheck {
        let checks = try ConfigFixtures.app("analysis:\n  checks:\n    - \(text)").analysis.checks
        return try #require(checks.first)
    }

    /// The problems of `analysis` with these lines under it (from line 9, column 7 on).
    private func problems(_ lines: String) -> [String] {
        let indented = lines.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        return ConfigFixtures.appProblems("analysis:\n" + indented.joined(separator: "\n"))
    }

    @Test func defaults() throws {
        let analysis = try ConfigFixtures.app("").analysis
        #expect(analysis == AnalysisSpec())
        #expect(analysis.interval == .seconds(2))
        #expect(analysis.minRequests == 20)
        #expect(
            analysis.checks == [
                AnalysisCheck(
                    metric: .successRate,
                    comparison: .greaterThanOrEqual,
                    threshold: 0.99,
                    text: "successRate >= 99%"
                )
            ]
        )
        #expect(
            analysis.failFast == [
                AnalysisCheck(
                    metric: .successRate,
                    comparison: .greaterThanOrEqual,
                    threshold: 0.9,
                    text: "successRate >= 90%"
                )
            ]
        )
        #expect(try ConfigFixtures.app("analysis:").analysis == AnalysisSpec())
    }

    @Test func everyKey() throws {
        let yaml = """
            analysis:
              interval: 5s
              minRequests: 50
              checks: ["successRate >= 99%", "p99 <= 300ms"]
              failFast: []
            """
        let expected = AnalysisSpec(
            interval: .seconds(5),
            checks: [
                AnalysisCheck(
                    metric: .successRate,
                    comparison: .greaterThanOrEqual,
                    threshold: 0.99,
                    text: "successRate >= 99%"
                ),
                AnalysisCheck(metric: .p99, comparison: .lessThanOrEqual, threshold: 0.3, text: "p99 <= 300ms"),
            ],
            failFast: [],
            minRequests: 50
        )
        #expect(try ConfigFixtures.app(yaml).analysis == expected)
    }

    @Test(
        arguments: [
            ("successRate >= 99%", AnalysisMetric.successRate, AnalysisCheck.Comparison.greaterThanOrEqual, 0.99),
            ("successRate>=99.5%", .successRate, .greaterThanOrEqual, 0.995),
            ("successRate > 99.95%", .successRate, .greaterThan, 0.9995),
            ("successRate >= 0.99", .successRate, .greaterThanOrEqual, 0.99),
            ("successRate >= 1", .successRate, .greaterThanOrEqual, 1),
            ("errorRate < 1%", .errorRate, .lessThan, 0.01),
            ("errorRate <= 0.001", .errorRate, .lessThanOrEqual, 0.001),
            ("p50 < 50ms", .p50, .lessThan, 0.05),
            ("p90 <= 1.5s", .p90, .lessThanOrEqual, 1.5),
            ("p95 <= 250ms", .p95, .lessThanOrEqual, 0.25),
            ("p99 <= 300ms", .p99, .lessThanOrEqual, 0.3),
            ("p999 < 2s", .p999, .lessThan, 2),
            ("requests >= 10", .requests, .greaterThanOrEqual, 10),
            ("requests > 0", .requests, .greaterThan, 0),
        ]
    )
    func checkForms(text: String, metric: AnalysisMetric, comparison: AnalysisCheck.Comparison, value: Double) throws {
        let check = try check("\"\(text)\"")
        #expect(check == AnalysisCheck(metric: metric, comparison: comparison, threshold: value, text: text))
    }

    @Test func checkTextIsTrimmed() throws {
        #expect(try check("\"  p99  <=  300ms \"").text == "p99  <=  300ms")
        #expect(try check("p99 <= 300ms").threshold == 0.3)
    }

    @Test func checkAsAMapping() throws {
        let check = try check("{ check: \"p99 <= 300ms\", minRequests: 50 }")
        #expect(
            check
                == AnalysisCheck(
                    metric: .p99,
                    comparison: .lessThanOrEqual,
                    threshold: 0.3,
                    minRequests: 50,
                    text: "p99 <= 300ms"
                )
        )
        #expect(try self.check("{ check: requests >= 5 }").minRequests == nil)
    }

    @Test func checksHold() {
        let check = AnalysisCheck(metric: .p99, comparison: .lessThanOrEqual, threshold: 0.3, text: "p99 <= 300ms")
        #expect(check.holds(for: 0.3))
        #expect(!check.holds(for: 0.31))
        #expect(AnalysisMetric.p99.isLatency)
        #expect(!AnalysisMetric.requests.isLatency)
    }

    @Test func checkErrors() {
        let yaml = """
            checks:
              - sucessRate >= 99%
              - latency <= 300ms
              - p99 == 300ms
              - p99 => 300ms
              - p99 <= fast
              - p99 <= 300
              - successRate >= 99
              - successRate >= 150%
              - requests >= 1.5
              - successRate
              - errorRate <= -1%
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:10:11: apps[0].analysis.checks[0]: unknown metric `sucessRate`; did you mean "
                    + "`successRate`?",
                "slipway.yaml:11:11: apps[0].analysis.checks[1]: unknown metric `latency`; expected one of "
                    + "`successRate`, `errorRate`, `p50`, `p90`, `p95`, `p99`, `p999`, `requests`",
                "slipway.yaml:12:11: apps[0].analysis.checks[2]: unknown comparison `==`; expected one of `<`, `<=`, "
                    + "`>`, `>=`",
                "slipway.yaml:13:11: apps[0].analysis.checks[3]: unknown comparison `=>`; expected one of `<`, `<=`, "
                    + "`>`, `>=`",
                "slipway.yaml:14:11: apps[0].analysis.checks[4]: expected a duration like 300ms or 1.5s after `p99`, "
                    + "got \"fast\"",
                "slipway.yaml:15:11: apps[0].analysis.checks[5]: expected a duration like 300ms or 1.5s after `p99`, "
                    + "got \"300\"; did you mean `300ms` or `300s`?",
                "slipway.yaml:16:11: apps[0].analysis.checks[6]: expected a percentage like 99% or a fraction from 0 "
                    + "to 1 like 0.99 after `successRate`, got \"99\"; did you mean `99%`?",
                "slipway.yaml:17:11: apps[0].analysis.checks[7]: expected a percentage like 99% or a fraction from 0 "
                    + "to 1 like 0.99 after `successRate`, got \"150%\"",
                "slipway.yaml:18:11: apps[0].analysis.checks[8]: expected a whole number of requests like 10 after "
                    + "`requests`, got \"1.5\"",
                "slipway.yaml:19:11: apps[0].analysis.checks[9]: expected a check written METRIC OP VALUE, like "
                    + "`p99 <= 300ms`, got \"successRate\"",
                "slipway.yaml:20:11: apps[0].analysis.checks[10]: expected a percentage like 99% or a fraction from 0 "
                    + "to 1 like 0.99 after `errorRate`, got \"-1%\"",
            ]
        )
    }

    @Test func metricNamesAreCaseSensitive() {
        #expect(
            problems("checks: [\"SuccessRate >= 99%\"]") == [
                "slipway.yaml:9:16: apps[0].analysis.checks[0]: unknown metric `SuccessRate`; did you mean "
                    + "`successRate`?"
            ]
        )
    }

    @Test func checkMappingErrors() {
        let yaml = """
            checks:
              - { minRequests: 5 }
              - { check: "p99 <= 1s", minRequests: 0 }
              - { check: "p99 <= soon", minRequests: none }
              - { chek: "p99 <= 1s" }
              - [p99 <= 1s]
              -
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:10:11: apps[0].analysis.checks[0]: missing required key `check`",
                "slipway.yaml:11:46: apps[0].analysis.checks[1].minRequests: expected an integer from 1 to 1000000, "
                    + "got 0",
                "slipway.yaml:12:20: apps[0].analysis.checks[2].check: expected a duration like 300ms or 1.5s after "
                    + "`p99`, got \"soon\"",
                "slipway.yaml:12:48: apps[0].analysis.checks[2].minRequests: expected an integer from 1 to 1000000, "
                    + "got \"none\"",
                "slipway.yaml:13:11: apps[0].analysis.checks[3]: missing required key `check`",
                "slipway.yaml:13:13: apps[0].analysis.checks[3].chek: unknown key `chek`; did you mean `check`?",
                "slipway.yaml:14:11: apps[0].analysis.checks[4]: expected a check like \"p99 <= 300ms\" or a mapping "
                    + "like {check: \"p99 <= 300ms\", minRequests: 50}, got a list",
                "slipway.yaml:15:10: apps[0].analysis.checks[5]: expected a check like \"p99 <= 300ms\" or a mapping "
                    + "like {check: \"p99 <= 300ms\", minRequests: 50}, got an empty value",
            ]
        )
    }

    @Test func checkListErrors() {
        #expect(
            problems("checks: []\nfailFast: []") == [
                "slipway.yaml:9:15: apps[0].analysis.checks: expected at least one check (an empty list is only "
                    + "allowed with `compare`), got an empty list"
            ]
        )
        #expect(
            problems("checks: p99 <= 300ms") == [
                "slipway.yaml:9:15: apps[0].analysis.checks: expected a list of checks like [\"successRate >= 99%\", "
                    + "\"p99 <= 300ms\"], got \"p99 <= 300ms\"; write a single check as a list: [\"p99 <= 300ms\"]"
            ]
        )
        #expect(
            problems("failFast:") == [
                "slipway.yaml:9:16: apps[0].analysis.failFast: expected a list of checks like [\"successRate >= 99%\", "
                    + "\"p99 <= 300ms\"], got an empty value"
            ]
        )
    }

    @Test func intervalAndMinRequestsErrors() {
        #expect(
            problems("interval: 0s\nminRequests: 0\nwindows: 3") == [
                "slipway.yaml:9:17: apps[0].analysis.interval: expected a duration greater than 0, got \"0s\"",
                "slipway.yaml:10:20: apps[0].analysis.minRequests: expected an integer from 1 to 1000000, got 0",
                "slipway.yaml:11:7: apps[0].analysis.windows: unknown key `windows`; expected one of `interval`, "
                    + "`minRequests`, `checks`, `failFast`, `compare`, `alpha`",
            ]
        )
    }

    @Test func everyProblemOfTheNewSectionsAtOnce() {
        let yaml = """
            strategy:
              canary:
                steps:
                  - weight: 50
                  - weight: 10
                  - analysis: { checks: ["p99 < 1"] }
            analysis:
              checks: ["errorRate > x"]
            warmup:
              concurrency: 0
            """
        #expect(
            ConfigFixtures.appProblems(yaml) == [
                "slipway.yaml:12:21: apps[0].strategy.canary.steps[1].weight: weight 10% is lower than the earlier "
                    + "weight 50% (steps[0]); weights only go up",
                "slipway.yaml:13:34: apps[0].strategy.canary.steps[2].analysis.checks[0]: expected a duration like "
                    + "300ms or 1.5s after `p99`, got \"1\"; did you mean `1ms` or `1s`?",
                "slipway.yaml:15:16: apps[0].analysis.checks[0]: expected a percentage like 99% or a fraction from 0 "
                    + "to 1 like 0.99 after `errorRate`, got \"x\"",
                "slipway.yaml:17:20: apps[0].warmup.concurrency: expected an integer from 1 to 256, got 0",
            ]
        )
    }

    @Test func comparisonsWithTheBaseline() throws {
        let yaml = """
            analysis:
              checks: []
              alpha: 5%
              compare:
                - errorRate
                - { metric: errorRate, maxIncrease: 50%, minRequests: 2000 }
            """
        let analysis = try ConfigFixtures.app(yaml).analysis
        #expect(analysis.checks.isEmpty)
        #expect(analysis.alpha == 0.05)
        #expect(
            analysis.compare == [
                ComparisonCheck(metric: .errorRate),
                ComparisonCheck(metric: .errorRate, maxIncrease: 0.5, minRequests: 2_000),
            ]
        )
        #expect(analysis.compare[0].text == "errorRate vs stable (no increase)")
        #expect(analysis.compare[1].text == "errorRate vs stable (at most +50%)")
        #expect(analysis.compare[1].bound == 1.5)
        #expect(try ConfigFixtures.app("analysis:").analysis.alpha == 0.01)
    }

    @Test func comparisonErrors() {
        #expect(
            problems("compare: errorRate\nalpha: 30%") == [
                "slipway.yaml:9:16: apps[0].analysis.compare: expected a list of comparisons like [errorRate, "
                    + "statusClasses] or [{metric: latency, slowerThan: 300ms}], got \"errorRate\"; write it as a list: "
                    + "[errorRate]",
                "slipway.yaml:10:14: apps[0].analysis.alpha: expected a level like 1% or 5% (above 0%, at most 20%), "
                    + "got \"30%\"",
            ]
        )
        #expect(
            problems("compare: [p99, {metric: errorRate, maxIncrease: lots, every: 1}]") == [
                "slipway.yaml:9:17: apps[0].analysis.compare[0]: expected a metric to compare with the stable "
                    + "version: errorRate, statusClasses, latency, latencyDistribution, got \"p99\"",
                "slipway.yaml:9:55: apps[0].analysis.compare[1].maxIncrease: expected a relative increase like 0%, "
                    + "20% or 100% (at most 1000%), got \"lots\"",
                "slipway.yaml:9:61: apps[0].analysis.compare[1].every: unknown key `every`; expected one of `metric`, "
                    + "`maxIncrease`, `minRequests`, `slowerThan`",
            ]
        )
    }

    @Test func comparisonsOfStatusClassesAndTheTail() throws {
        let yaml = """
            analysis:
              compare:
                - statusClasses
                - latency
                - { metric: latency, slowerThan: 300ms, maxIncrease: 20% }
            """
        let compare = try ConfigFixtures.app(yaml).analysis.compare
        #expect(compare.map(\.metric) == [.statusClasses, .latency, .latency])
        #expect(compare[0].text == "statusClasses vs stable (no change)")
        #expect(compare[1].slowerThan == nil)
        #expect(compare[1].text == "latency > stable's p99 vs stable (no increase)")
        #expect(compare[2].slowerThan == .milliseconds(300))
        #expect(compare[2].text == "latency > 300ms vs stable (at most +20%)")
        #expect(
            problems("compare: [{metric: errorRate, slowerThan: 1s}]") == [
                "slipway.yaml:9:49: apps[0].analysis.compare[0].slowerThan: `slowerThan` is only for `metric: latency`"
            ]
        )
    }
}
