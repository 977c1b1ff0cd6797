import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RolloutMachineMirrorTests {
    typealias H = RolloutHarness

    static let mirror = MirrorStepSpec(share: percent(50), duration: .seconds(10), windows: 2)

    func canary(_ steps: [CanarySpec.Step], compare: [ComparisonCheck] = []) -> H {
        var harness = H(
            H.plan(
                .canary(CanarySpec(steps: steps)),
                analysis: AnalysisSpec(
                    checks: [
                        AnalysisCheck(
                            metric: .successRate,
                            comparison: .greaterThanOrEqual,
                            threshold: 0.99,
                            text: "successRate >= 99%"
                        )
                    ],
                    minRequests: 20,
                    compare: compare
                )
            )
        )
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    @Test func aMirrorStepBeforeAnyWeightStartsOneCandidateAndCopiesToItWithoutUserTraffic() {
        let harness = canary([.mirror(Self.mirror), .weight(percent(10)), .pause(nil)])
        #expect(harness.machine.steps.prefix(3) == [.scaleCandidate(1), .mirror(Self.mirror), .scaleCandidate(1)])
        #expect(harness.machine.currentStep == .mirror(Self.mirror))
        #expect(harness.candidateWeight == 0)
        #expect(harness.routed.contains(H.id(4)))
        #expect(
            harness.machine.routes.mirror
                == RoutePlan.Mirror(version: "2.0.0", share: 5_000, methods: ["GET", "HEAD"], maxBodyBytes: 65_536)
        )
    }

    @Test func passingCopiesEndTheStepOnlyOnceItsDurationIsOver() {
        var harness = canary([.mirror(Self.mirror), .weight(percent(10)), .pause(nil)])
        harness.mirrorWindow(shadow: (50, 0))
        harness.mirrorWindow(shadow: (50, 0))
        #expect(harness.last(.analysisJudged)?.fields["passes"] == .int(2))
        // Two windows passed after 4 s: the copies go on until 10 s.
        #expect(harness.machine.currentStep == .mirror(Self.mirror))
        #expect(harness.machine.waitingFor == "mirror: copies go on until the step's duration is over")
        harness.advance(.seconds(6))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(harness.machine.routes.mirror == nil)
        #expect(harness.candidateWeight == 1_000)
    }

    @Test func failingCopiesRollBackBeforeAnyUserSeesTheCandidate() {
        var harness = canary([.mirror(Self.mirror), .weight(percent(10)), .pause(nil)])
        harness.mirrorWindow(shadow: (50, 10))
        #expect(harness.machine.rollback?.outcome == .rolledBack)
        #expect(harness.machine.rollback?.reason.contains("the mirror step failed") == true)
        #expect(harness.machine.rollback?.reason.contains("successRate >= 99%") == true)
        let judged = harness.last(.analysisJudged)
        #expect(judged?.fields["verdict"] == "fail")
        #expect(
            judged?.fields["mirrored"]
                == .object([
                    "1.0.0": .object(["requests": .int(100), "errors": .int(0)]),
                    "2.0.0": .object(["requests": .int(50), "errors": .int(10)]),
                ])
        )
        // The candidate never had a share of users' traffic, and copies stop with the rollback.
        #expect(
            !harness.actions.contains {
                if case .setRoutes(let plan) = $0 {
                    return plan.groups.contains { $0.version == "2.0.0" && $0.weight > 0 }
                }
                return false
            }
        )
        #expect(harness.machine.routes.mirror == nil)
    }

    @Test func aComparisonOfStatusClassesCatchesCopiesFailingMoreThanTheOriginals() {
        let compare = ComparisonCheck(metric: .statusClasses, maxIncrease: 0.5, minRequests: 100)
        var harness = canary(
            [.mirror(MirrorStepSpec(share: percent(100), duration: .seconds(60), checks: [])), .weight(percent(10))],
            compare: [compare]
        )
        var windows = 0
        while harness.machine.rollback == nil, windows < 30 {
            harness.mirrorWindow(shadow: (200, 12), original: (200, 0))
            windows += 1
        }
        #expect(harness.machine.rollback?.reason.contains("worse than 1.0.0") == true)
        #expect(harness.last(.analysisJudged)?.fields["analysis"] == "mirror")
        #expect(windows < 30)
    }

    @Test func tooFewCopiesRollBackAtTheDeadlinePastTheDuration() {
        var harness = canary([.mirror(Self.mirror), .weight(percent(10)), .pause(nil)])
        harness.mirrorWindow(shadow: (3, 0))
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "inconclusive")
        // 10 s of mirroring, then the strategy's progressDeadline (60 s).
        harness.advance(.seconds(60))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        harness.advance(.seconds(8))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback?.reason.contains("did not finish") == true)
    }

    @Test func promoteSkipsAMirrorStep() {
        var harness = canary([.mirror(Self.mirror), .weight(percent(10)), .pause(nil)])
        #expect(harness.command(.promote(full: false)).accepted)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(harness.candidateWeight == 1_000)
    }

    @Test func everyStrategyButRecreatePlacesTheStrategyMirrorBeforeUserTraffic() {
        func steps(_ kind: StrategySpec.Kind) -> [RolloutStep] {
            var plan = H.plan(kind, instances: 4)
            plan.strategy.mirror = Self.mirror
            return plan.compile().steps
        }
        let rolling = steps(.rolling(RollingSpec(maxSurge: .count(1), maxUnavailable: .count(0))))
        #expect(Array(rolling.prefix(3)) == [.scaleCandidate(1), .mirror(Self.mirror), .scaleCandidate(1)])
        let blueGreen = steps(.blueGreen(BlueGreenSpec()))
        #expect(Array(blueGreen.prefix(2)) == [.scaleCandidate(4), .mirror(Self.mirror)])
        let canary = steps(.canary(CanarySpec(steps: [.weight(percent(50))])))
        #expect(
            Array(canary.prefix(4)) == [.scaleCandidate(1), .mirror(Self.mirror), .scaleCandidate(2), .weight(5_000)]
        )
        let fixed = steps(.canary(CanarySpec(steps: [.weight(percent(50))], instances: .fixed(2))))
        #expect(Array(fixed.prefix(3)) == [.scaleCandidate(2), .mirror(Self.mirror), .weight(5_000)])
    }

    @Test func aRollingUpdatesMirrorGivesTheCandidateNoShareUntilItsFirstBatch() {
        var plan = H.plan(.rolling(RollingSpec(maxSurge: .count(1), maxUnavailable: .count(0))))
        plan.strategy.mirror = Self.mirror
        var harness = H(plan)
        harness.feed(.begin)
        harness.settle()
        #expect(harness.machine.currentStep == .mirror(Self.mirror))
        #expect(harness.routed.contains(H.id(4)))
        #expect(harness.candidateWeight == 0)
        harness.mirrorWindow(shadow: (50, 0))
        harness.mirrorWindow(shadow: (50, 0))
        harness.advance(.seconds(6))
        harness.feed(.timerFired)
        harness.settle()
        // Past the mirror, each ready instance takes its share again.
        #expect(harness.candidateWeight > 0)
        #expect(harness.machine.routes.mirror == nil)
    }
}
