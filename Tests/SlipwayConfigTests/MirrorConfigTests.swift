import SlipwayConfig
import Testing

@Suite("Mirror steps")
struct MirrorConfigTests {
    @Test func aCanaryMirrorStepWithEveryKey() throws {
        let app = try ConfigFixtures.app(
            """
            strategy:
              canary:
                steps:
                  - mirror:
                      share: 25%
                      duration: 2m
                      windows: 3
                      failureLimit: 1
                      checks: ["successRate >= 99%"]
                      methods: [GET, POST]
                      maxBody: 8KiB
                  - weight: 10
            """
        )
        guard case .canary(let canary) = app.strategy.kind, case .mirror(let mirror) = canary.steps.first else {
            Issue.record("expected a canary whose first step mirrors, got \(app.strategy.kind)")
            return
        }
        #expect(mirror.share == Percentage(basisPoints: 2_500))
        #expect(mirror.duration == .seconds(120))
        #expect(mirror.windows == 3)
        #expect(mirror.failureLimit == 1)
        #expect(mirror.checks?.map(\.text) == ["successRate >= 99%"])
        #expect(mirror.methods == ["GET", "POST"])
        #expect(mirror.maxBodyBytes == 8_192)
        #expect(canary.steps.count == 2)
    }

    @Test func theDefaultsCopyGetAndHeadAndJudgeOneWindowWithTheAppsChecks() throws {
        let app = try ConfigFixtures.app("strategy: { blueGreen: {}, mirror: { share: 50, duration: 30s } }")
        #expect(app.strategy.mirror == MirrorStepSpec(share: Percentage(basisPoints: 5_000), duration: .seconds(30)))
        #expect(app.strategy.mirror?.methods == ["GET", "HEAD"])
        #expect(app.strategy.mirror?.maxBodyBytes == 65_536)
        #expect(app.strategy.mirror?.analysis == AnalysisStepSpec(windows: 1, failureLimit: 0, checks: nil))
    }

    @Test func badValuesAreReportedWithTheirPaths() {
        #expect(
            ConfigFixtures.appProblems(
                "strategy: { rolling: {}, mirror: { share: 0, windows: 0, methods: [get], maxBody: lots } }"
            ) == [
                "slipway.yaml:8:38: apps[0].strategy.mirror: missing required key `duration`",
                "slipway.yaml:8:47: apps[0].strategy.mirror.share: expected a share greater than 0, like 10, 50% or "
                    + "100%, got 0",
                "slipway.yaml:8:59: apps[0].strategy.mirror.windows: expected an integer from 1 to 1000, got 0",
                "slipway.yaml:8:72: apps[0].strategy.mirror.methods[0]: expected an upper-case HTTP method like GET, "
                    + "got \"get\"",
                "slipway.yaml:8:87: apps[0].strategy.mirror.maxBody: expected a size like 512KiB, 10MiB or 1MB, got "
                    + "\"lots\"",
            ]
        )
    }

    @Test func recreateCannotMirror() {
        #expect(
            ConfigFixtures.appProblems("strategy: { recreate: {}, mirror: { share: 10, duration: 1m } }") == [
                "slipway.yaml:8:31: apps[0].strategy.mirror: `mirror` needs the stable and candidate sets running "
                    + "side by side; `recreate` stops one before starting the other"
            ]
        )
    }
}
