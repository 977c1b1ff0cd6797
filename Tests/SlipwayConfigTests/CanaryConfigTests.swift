import SlipwayConfig
import Testing

@Suite("The canary strategy")
struct CanaryConfigTests {
    /// The app's canary settings, or nil when the strategy is another one.
    private func canary(_ lines: String) throws -> CanarySpec? {
        guard case .canary(let spec) = try ConfigFixtures.app(lines).strategy.kind else { return nil }
        return spec
    }

    /// The problems of a canary with these lines under `canary:` (from line 10, column 7 on).
    private func problems(_ lines: String) -> [String] {
        let indented = lines.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return ConfigFixtures.appProblems("strategy:\n  canary:\n" + indented.joined(separator: "\n"))
    }

    private func percent(_ basisPoints: Int) -> Percentage {
        Percentage(basisPoints: basisPoints)
    }

    @Test func everyKey() throws {
        let yaml = """
            strategy:
              progressDeadline: 15m
              canary:
                instances: 1
                steps:
                  - weight: 10
                  - pause: 30s
                  - analysis: { windows: 3, failureLimit: 1, checks: ["p99 <= 300ms"] }
                  - weight: 50
                  - pause: {}
                match:
                  - header: { name: X-Internal-User, value: "true" }
                  - header: { name: X-User, pattern: "^qa-.*" }
                  - cookie: { name: beta, value: "1" }
                stickiness: { cookie: slipway-bucket }
            """
        let latency = AnalysisCheck(metric: .p99, comparison: .lessThanOrEqual, threshold: 0.3, text: "p99 <= 300ms")
        let expected = CanarySpec(
            steps: [
                .weight(percent(1_000)),
                .pause(.seconds(30)),
                .analysis(AnalysisStepSpec(windows: 3, failureLimit: 1, checks: [latency])),
                .weight(percent(5_000)),
                .pause(nil),
            ],
            match: [
                MatchSpec(condition: .headerEquals(name: "X-Internal-User", value: "true")),
                MatchSpec(condition: .headerMatches(name: "X-User", pattern: "^qa-.*")),
                MatchSpec(condition: .cookieEquals(name: "beta", value: "1")),
            ],
            stickiness: .cookie("slipway-bucket"),
            instances: .fixed(1)
        )
        let strategy = try ConfigFixtures.app(yaml).strategy
        #expect(strategy == StrategySpec(kind: .canary(expected), progressDeadline: .seconds(900)))
        #expect(strategy.name == "canary")
    }

    @Test func defaults() throws {
        let spec = try #require(try canary("strategy: { canary: { steps: [{ weight: 50 }] } }"))
        #expect(spec == CanarySpec(steps: [.weight(percent(5_000))]))
        #expect(spec.instances == .scaled)
        #expect(spec.match.isEmpty)
        #expect(spec.stickiness == nil)
    }

    @Test func weightForms() throws {
        let spec = try #require(
            try canary(
                "strategy: { canary: { steps: [{ weight: 0 }, { weight: 12.5 }, { weight: 25% }, { weight: 100 }] } }"
            )
        )
        #expect(
            spec.steps == [
                .weight(percent(0)), .weight(percent(1_250)), .weight(percent(2_500)), .weight(percent(10_000)),
            ]
        )
        let fine = try #require(
            try canary("strategy: { canary: { steps: [{ weight: 33.33 }, { weight: \"66.67%\" }] } }")
        )
        #expect(fine.steps == [.weight(percent(3_333)), .weight(percent(6_667))])
    }

    @Test func weightErrors() {
        let expectation = "expected a weight from 0 to 100 with at most two decimals, like 10, 12.5 or 25%"
        #expect(
            problems("steps:\n  - weight: 101\n  - weight: 12.345\n  - weight: -5\n  - weight: ten\n  - weight: \"50\"")
                == [
                    "slipway.yaml:11:21: apps[0].strategy.canary.steps[0].weight: \(expectation), got 101",
                    "slipway.yaml:12:21: apps[0].strategy.canary.steps[1].weight: \(expectation), got 12.345",
                    "slipway.yaml:13:21: apps[0].strategy.canary.steps[2].weight: \(expectation), got -5",
                    "slipway.yaml:14:21: apps[0].strategy.canary.steps[3].weight: \(expectation), got \"ten\"",
                    "slipway.yaml:15:21: apps[0].strategy.canary.steps[4].weight: \(expectation), got \"50\"",
                ]
        )
    }

    @Test func weightsOnlyGoUp() throws {
        #expect(
            problems("steps:\n  - weight: 10\n  - weight: 50\n  - pause: 1m\n  - weight: 20\n  - weight: 5%") == [
                "slipway.yaml:14:21: apps[0].strategy.canary.steps[3].weight: weight 20% is lower than the earlier "
                    + "weight 50% (steps[1]); weights only go up",
                "slipway.yaml:15:21: apps[0].strategy.canary.steps[4].weight: weight 5% is lower than the earlier "
                    + "weight 50% (steps[1]); weights only go up",
            ]
        )
        let level = try #require(
            try canary("strategy: { canary: { steps: [{ weight: 50 }, { pause: 1h }, { weight: 50% }] } }")
        )
        #expect(level.steps == [.weight(percent(5_000)), .pause(.seconds(3600)), .weight(percent(5_000))])
    }

    @Test func pauseForms() throws {
        let spec = try #require(
            try canary("strategy:\n  canary:\n    steps:\n      - pause: 1m30s\n      - pause: {}\n      - pause:")
        )
        #expect(spec.steps == [.pause(.seconds(90)), .pause(nil), .pause(nil)])
    }

    @Test func pauseErrors() {
        #expect(
            problems("steps:\n  - pause: 0s\n  - pause: 5\n  - pause: { until: promote }") == [
                "slipway.yaml:11:20: apps[0].strategy.canary.steps[0].pause: expected a duration greater than 0, got "
                    + "\"0s\"; write `pause: {}` to wait for `promote`",
                "slipway.yaml:12:20: apps[0].strategy.canary.steps[1].pause: expected a duration like 250ms, 2s or "
                    + "1m30s, got 5; did you mean `5s`?",
                "slipway.yaml:13:20: apps[0].strategy.canary.steps[2].pause: expected a duration like 30s, or {} to "
                    + "wait for `promote`, got a mapping",
            ]
        )
    }

    @Test func analysisSteps() throws {
        let spec = try #require(
            try canary(
                "strategy: { canary: { steps: [{ analysis: {} }, { analysis: }, { analysis: { windows: 5 } }] } }"
            )
        )
        #expect(
            spec.steps == [
                .analysis(AnalysisStepSpec()), .analysis(AnalysisStepSpec()), .analysis(AnalysisStepSpec(windows: 5)),
            ]
        )
        #expect(AnalysisStepSpec() == AnalysisStepSpec(windows: 3, failureLimit: 0, checks: nil))
    }

    @Test func analysisStepErrors() {
        #expect(
            problems("steps:\n  - analysis: { windows: 0, failureLimit: -1, checks: [], interval: 5s }") == [
                "slipway.yaml:11:34: apps[0].strategy.canary.steps[0].analysis.windows: expected an integer from 1 "
                    + "to 1000, got 0",
                "slipway.yaml:11:51: apps[0].strategy.canary.steps[0].analysis.failureLimit: expected an integer from "
                    + "0 to 1000, got -1",
                "slipway.yaml:11:63: apps[0].strategy.canary.steps[0].analysis.checks: expected at least one check, "
                    + "got an empty list",
                "slipway.yaml:11:67: apps[0].strategy.canary.steps[0].analysis.interval: unknown key `interval`; "
                    + "expected one of `windows`, `failureLimit`, `checks`",
            ]
        )
    }

    @Test func stepErrors() {
        #expect(
            problems("steps:\n  - 10\n  - {}\n  - weight: 10\n    pause: 30s\n  - puase: 30s") == [
                "slipway.yaml:11:13: apps[0].strategy.canary.steps[0]: expected a step like {weight: 10}, {pause: 30s}, "
                    + "{analysis: {}} or {mirror: {share: 50%, duration: 2m}}, got 10",
                "slipway.yaml:12:13: apps[0].strategy.canary.steps[1]: expected exactly one of `weight`, `pause`, "
                    + "`analysis`, `mirror` or `chaos`, got none",
                "slipway.yaml:14:13: apps[0].strategy.canary.steps[2].pause: `weight` and `pause` cannot both be set; "
                    + "write each step as its own list entry",
                "slipway.yaml:15:13: apps[0].strategy.canary.steps[3].puase: unknown key `puase`; did you mean `pause`?",
            ]
        )
    }

    @Test func stepsAreRequired() {
        #expect(
            ConfigFixtures.appProblems("strategy: { canary: {} }") == [
                "slipway.yaml:8:25: apps[0].strategy.canary: missing required key `steps`"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy:\n  canary:") == [
                "slipway.yaml:9:14: apps[0].strategy.canary: missing required key `steps`"
            ]
        )
        #expect(
            problems("steps: []") == [
                "slipway.yaml:10:16: apps[0].strategy.canary.steps: expected at least one step, got an empty list"
            ]
        )
        #expect(
            problems("steps: 10%") == [
                "slipway.yaml:10:16: apps[0].strategy.canary.steps: expected a list of steps like [{weight: 10}, "
                    + "{pause: 5m}, {weight: 50}], got \"10%\""
            ]
        )
    }

    @Test func candidateInstances() throws {
        let fixed = try #require(try canary("strategy: { canary: { instances: 3, steps: [{ weight: 10 }] } }"))
        #expect(fixed.instances == .fixed(3))
        let scaled = try #require(try canary("strategy: { canary: { instances: scaled, steps: [{ weight: 10 }] } }"))
        #expect(scaled.instances == .scaled)
    }

    @Test func candidateInstancesErrors() {
        #expect(
            problems("instances: 4\nsteps: [{ weight: 10 }]") == [
                "slipway.yaml:10:20: apps[0].strategy.canary.instances: instances 4 must not be more than the app's "
                    + "instances 3"
            ]
        )
        #expect(
            problems("instances: 0\nsteps: [{ weight: 10 }]") == [
                "slipway.yaml:10:20: apps[0].strategy.canary.instances: expected an integer from 1 to 1000 or "
                    + "`scaled`, got 0"
            ]
        )
        #expect(
            problems("instances: all\nsteps: [{ weight: 10 }]") == [
                "slipway.yaml:10:20: apps[0].strategy.canary.instances: expected an integer from 1 to 1000 or "
                    + "`scaled`, got \"all\""
            ]
        )
    }

    @Test func matchErrors() {
        let yaml = """
            steps: [{ weight: 10 }]
            match:
              - header: { name: X-User, value: a, pattern: "^a" }
              - header: { name: X-User }
              - header: { name: "X User", pattern: "[a-" }
              - cookie: { name: beta }
              - { header: { name: A, value: b }, cookie: { name: c, value: d } }
              - {}
              - query: { name: q }
              - header: X-Beta
              - cookie: { name: beta, value: "a b" }
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:12:47: apps[0].strategy.canary.match[0].header.pattern: `value` and `pattern` cannot "
                    + "both be set; choose one",
                "slipway.yaml:13:21: apps[0].strategy.canary.match[1].header: expected exactly one of `value` or "
                    + "`pattern`, got neither",
                "slipway.yaml:14:29: apps[0].strategy.canary.match[2].header.name: expected a header name like "
                    + "X-Internal-User, got \"X User\"",
                "slipway.yaml:14:48: apps[0].strategy.canary.match[2].header.pattern: expected a regular expression, "
                    + "got \"[a-\"",
                "slipway.yaml:15:21: apps[0].strategy.canary.match[3].cookie: missing required key `value`",
                "slipway.yaml:16:46: apps[0].strategy.canary.match[4].cookie: `header` and `cookie` cannot both be "
                    + "set; write each rule as its own list entry",
                "slipway.yaml:17:13: apps[0].strategy.canary.match[5]: expected exactly one of `header` or `cookie`, "
                    + "got neither",
                "slipway.yaml:18:13: apps[0].strategy.canary.match[6].query: unknown key `query`; expected one of "
                    + "`header`, `cookie`",
                "slipway.yaml:18:13: apps[0].strategy.canary.match[6]: expected exactly one of `header` or `cookie`, "
                    + "got neither",
                "slipway.yaml:19:21: apps[0].strategy.canary.match[7].header: expected a mapping like {name: X-Beta, "
                    + "value: \"1\"} or {name: X-User, pattern: \"^qa-.*\"}, got \"X-Beta\"",
                "slipway.yaml:20:42: apps[0].strategy.canary.match[8].cookie.value: expected a cookie value without "
                    + "spaces, quotes, commas, semicolons or backslashes, got \"a b\"",
            ]
        )
        #expect(
            problems("steps: [{ weight: 10 }]\nmatch: { header: { name: X-Beta, value: \"1\" } }") == [
                "slipway.yaml:11:16: apps[0].strategy.canary.match: expected a list of rules like [{header: {name: "
                    + "X-Beta, value: \"1\"}}], got a mapping"
            ]
        )
    }

    @Test func stickiness() throws {
        let header = try #require(
            try canary("strategy: { canary: { steps: [{ weight: 10 }], stickiness: { header: X-User-Id } } }")
        )
        #expect(header.stickiness == .header("X-User-Id"))
        #expect(
            problems("steps: [{ weight: 10 }]\nstickiness: { cookie: a, header: B }") == [
                "slipway.yaml:11:34: apps[0].strategy.canary.stickiness.header: `cookie` and `header` cannot both be "
                    + "set; choose one"
            ]
        )
        #expect(
            problems("steps: [{ weight: 10 }]\nstickiness: {}") == [
                "slipway.yaml:11:21: apps[0].strategy.canary.stickiness: expected exactly one of `cookie` or "
                    + "`header`, got neither"
            ]
        )
        #expect(
            problems("steps: [{ weight: 10 }]\nstickiness: { cookie: \"slipway bucket\" }") == [
                "slipway.yaml:11:31: apps[0].strategy.canary.stickiness.cookie: expected a cookie name like "
                    + "slipway-bucket, got \"slipway bucket\""
            ]
        )
        #expect(
            problems("steps: [{ weight: 10 }]\nstickiness: cookie") == [
                "slipway.yaml:11:21: apps[0].strategy.canary.stickiness: expected a mapping like {cookie: "
                    + "slipway-bucket} or {header: X-User-Id}, got \"cookie\""
            ]
        )
    }

    @Test func positionsOfStepsAreKept() throws {
        let app = try ConfigFixtures.app("strategy:\n  canary:\n    steps:\n      - weight: 10\n      - pause: 30s")
        #expect(app.keyPath("strategy.canary.steps[1].pause") == "apps[0].strategy.canary.steps[1].pause")
        #expect(app.location("strategy.canary.steps[1].pause") == SourceLocation(line: 12, column: 20))
    }
}
