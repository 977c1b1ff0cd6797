import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

func percent(_ value: Int) -> Percentage { Percentage(basisPoints: value * 100) }

let canarySteps: [CanarySpec.Step] = [
    .weight(percent(10)), .pause(.seconds(30)), .analysis(AnalysisStepSpec(windows: 2)), .weight(percent(50)),
    .pause(nil),
]

@Suite struct RolloutMachineCanaryTests {
    typealias H = RolloutHarness

    func started(_ steps: [CanarySpec.Step] = canarySteps, instances: CanarySpec.CandidateInstances = .scaled) -> H {
        var harness = H(H.plan(.canary(CanarySpec(steps: steps, instances: instances))))
        harness.feed(.begin)
        return harness
    }

    @Test func beginRecordsThePlanAndStartsOneCandidateForTenPercent() {
        let harness = started()
        let startedEvent = harness.last(.rolloutStarted)
        #expect(startedEvent?.fields["from"] == "1.0.0")
        #expect(startedEvent?.fields["to"] == "2.0.0")
        #expect(startedEvent?.fields["strategy"] == "canary")
        #expect(startedEvent?.fields["by"] == "ada")
        #expect(harness.launched == [H.id(4)])
        // No traffic to a candidate that is not ready.
        #expect(harness.candidateWeight == 0)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
        #expect(harness.machine.currentStep == .scaleCandidate(1))
    }

    @Test func theCandidateTakesItsWeightOnlyOnceHealthy() {
        var harness = started()
        harness.feed(.started(H.id(4)))
        #expect(harness.candidateWeight == 0)
        harness.feed(.healthy(H.id(4)))
        #expect(harness.candidateWeight == 1_000)
        #expect(harness.routed.contains(H.id(4)))
        #expect(
            harness.last(.trafficShifted)?.fields["weights"] == .object(["1.0.0": .double(90), "2.0.0": .double(10)])
        )
        #expect(harness.machine.currentStep == .pause(.seconds(30)))
    }

    @Test func aTimedPauseEndsOnItsTimer() {
        var harness = started()
        harness.settle()
        #expect(harness.actions.contains(.scheduleTimer(at: Moment(.seconds(30)))))
        harness.advance(.seconds(29))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .pause(.seconds(30)))
        harness.advance(.seconds(1))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .analysis(AnalysisStepSpec(windows: 2), preview: false))
    }

    @Test func aHealthyCanaryGoesThroughEveryStepAndIsPromoted() {
        var harness = started()
        harness.settle()
        harness.advance(.seconds(30))
        harness.feed(.timerFired)
        harness.window(candidate: (50, 0))
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "pass")
        harness.window(candidate: (50, 0))
        // Analysis passed: weight 50% needs 2 candidate instances first.
        #expect(harness.machine.currentStep == .scaleCandidate(2))
        harness.settle()
        #expect(harness.candidateWeight == 5_000)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(harness.machine.stateName == "paused")
        // Only promote (or resume) ends an open pause, whatever the clock says.
        harness.advance(.seconds(3_000))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(harness.command(.promote(full: false)).accepted)
        harness.settle()
        #expect(harness.candidateWeight == 10_000)
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.kinds.contains(.rolloutPromoted))
        #expect(harness.last(.rolloutFinished)?.fields["outcome"] == "promoted")
        #expect(harness.last(.rolloutFinished)?.fields["stable"] == "2.0.0")
        // Every stable instance was drained (out of the routes) before its stop.
        for number in 1...3 {
            let stop = harness.lastIndex { $0 == .stop(H.id(number), reason: "replaced by 2.0.0") }
            let routesWithout = harness.lastIndex {
                if case .setRoutes(let plan) = $0 { return !plan.instances.contains(H.id(number)) }
                return false
            }
            #expect(stop != nil && routesWithout != nil && routesWithout! < stop!)
        }
        #expect(harness.machine.instances.values.allSatisfy { $0.role == .candidate && $0.phase == .ready })
        #expect(harness.machine.instances.count == 3)
        // Once promoted, the report keeps what the new stable instances wrote to standard error, before the end.
        let tails = harness.actions.filter { if case .recordStderrTail = $0 { true } else { false } }
        #expect(tails == [H.id(4), H.id(5), H.id(6)].map { .recordStderrTail($0, version: "2.0.0") })
        let finished = harness.lastIndex {
            if case .record(let event) = $0 { event.kind == .rolloutFinished } else { false }
        }
        #expect(harness.lastIndex { $0 == .recordStderrTail(H.id(6), version: "2.0.0") }! < finished!)
    }

    @Test func failFastRollsBackAtOnceWithTheEvidence() {
        var harness = started()
        harness.settle()
        #expect(harness.candidateWeight == 1_000)
        harness.window(stable: (180, 0), candidate: (20, 4))
        #expect(harness.machine.rollback?.outcome == .rolledBack)
        // Traffic is back on stable in the same step, before anything else happens.
        #expect(harness.candidateWeight == 0)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
        let event = harness.last(.rolloutRollingBack)
        #expect(event?.fields["reason"]?.stringValue?.contains("successRate >= 90%") == true)
        #expect(event?.fields["verdict"] == "fail")
        guard case .array(let checks)? = event?.fields["checks"], case .object(let check)? = checks.first else {
            Issue.record("no check evidence")
            return
        }
        #expect(check["value"] == "80%")
        #expect(check["threshold"] == "90%")
        #expect(check["requests"] == 20)
        #expect(check["minRequests"] == 20)
        #expect(harness.stopping == [H.id(4)])
        // The candidate's standard error is asked for before its stop, and the stable's never.
        let tail = harness.lastIndex { $0 == .recordStderrTail(H.id(4), version: "2.0.0") }
        let stop = harness.lastIndex { if case .stop(H.id(4), _) = $0 { true } else { false } }
        #expect(tail != nil && stop != nil && tail! < stop!)
        #expect(harness.actions.filter { if case .recordStderrTail = $0 { true } else { false } }.count == 1)
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.last(.rolloutFinished)?.fields["stable"] == "1.0.0")
    }

    @Test func tooFewRequestsAreInconclusiveNotAFailure() {
        var harness = started()
        harness.settle()
        harness.window(candidate: (5, 5))
        #expect(harness.machine.rollback == nil)
    }

    @Test func anInconclusiveAnalysisWaitsUntilTheDeadlineAndSaysWhy() {
        var harness = started([.weight(percent(10)), .analysis(AnalysisStepSpec(windows: 2))])
        harness.settle()
        for _ in 0..<10 { harness.window(candidate: (3, 0)) }
        #expect(harness.machine.rollback == nil)
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "inconclusive")
        harness.advance(.seconds(60))
        harness.feed(.timerFired)
        let reason = harness.machine.rollback?.reason ?? ""
        #expect(reason.contains("did not finish within progressDeadline 1m"))
        #expect(reason.contains("inconclusive"))
        #expect(reason.contains("3 of 20 requests needed"))
    }

    @Test func aFailingAnalysisStepRollsBackAfterItsFailureLimit() {
        var harness = started([.weight(percent(10)), .analysis(AnalysisStepSpec(windows: 3, failureLimit: 1))])
        harness.settle()
        // 95% success passes fail-fast (90%) but fails the step check (99%).
        harness.window(candidate: (100, 5))
        #expect(harness.machine.rollback == nil)
        harness.window(candidate: (100, 5))
        #expect(harness.machine.rollback?.reason.contains("analysis failed at step") == true)
        #expect(harness.last(.rolloutRollingBack)?.fields["failures"] == 2)
    }

    @Test func aCandidateThatNeverBecomesHealthyIsRolledBackBeforeTakingTraffic() {
        var harness = started()
        harness.feed(.started(H.id(4)))
        harness.advance(.seconds(30))
        harness.feed(.failedToStart(H.id(4), reason: "not healthy 30s after start"))
        #expect(harness.machine.rollback?.reason.contains("candidate instance shop-4 failed") == true)
        #expect(
            !harness.actions.contains { action in
                if case .setRoutes(let plan) = action { return plan.instances.contains(H.id(4)) }
                return false
            }
        )
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
    }

    @Test func aCandidateCrashingMidCanaryIsRolledBack() {
        var harness = started()
        harness.settle()
        harness.advance(.seconds(5))
        harness.feed(.exited(H.id(4), status: "signal 9 (SIGKILL)"))
        #expect(harness.candidateWeight == 0)
        #expect(harness.machine.rollback?.reason == "candidate instance shop-4 failed: exited with signal 9 (SIGKILL)")
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
    }

    @Test func aStableInstanceFailingMidCanaryIsReplacedNotRolledBack() {
        var harness = started()
        harness.settle()
        harness.feed(.exited(H.id(2), status: "signal 9 (SIGKILL)"))
        #expect(harness.machine.rollback == nil)
        #expect(harness.launched == [H.id(5)])
        harness.settle()
        #expect(harness.routed.contains(H.id(5)))
    }

    @Test func matchRulesAndStickinessFollowTheCandidate() {
        let match = [MatchSpec(condition: .headerEquals(name: "X-Internal", value: "true"))]
        var harness = H(
            H.plan(
                .canary(
                    CanarySpec(steps: [.weight(percent(0)), .pause(nil)], match: match, stickiness: .cookie("bucket"))
                )
            )
        )
        harness.feed(.begin)
        #expect(harness.machine.routes.rules.isEmpty)
        harness.settle()
        #expect(harness.machine.routes.rules == match)
        #expect(harness.machine.routes.ruleVersion == "2.0.0")
        #expect(harness.machine.routes.stickiness == .cookie("bucket"))
        #expect(harness.candidateWeight == 0)
        harness.command(.abort)
        #expect(harness.machine.routes.rules.isEmpty)
    }

    @Test func aFixedCandidateCountStartsOnceAndScaledCountsGrowWithTheWeight() {
        let fixed = H.plan(.canary(CanarySpec(steps: canarySteps, instances: .fixed(2)))).compile().steps
        #expect(fixed.filter { if case .scaleCandidate = $0 { return true } else { return false } }.count == 2)
        #expect(fixed.first == .scaleCandidate(2))
        let scaled = H.plan(.canary(CanarySpec(steps: canarySteps)), instances: 10).compile().steps
        #expect(scaled.contains(.scaleCandidate(1)))
        #expect(scaled.contains(.scaleCandidate(5)))
        #expect(scaled.suffix(4) == [.scaleCandidate(10), .weight(10_000), .promoted, .scaleStable(0)])
    }

    @Test func promoteFullSkipsEveryRemainingStep() {
        var harness = started()
        harness.settle()
        #expect(harness.command(.promote(full: true)).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(!harness.kinds.contains(.analysisJudged))
    }

    @Test func warmUpHoldsTrafficUntilTheInstanceIsWarm() {
        var harness = H(H.plan(.canary(CanarySpec(steps: canarySteps)), warmUp: true))
        harness.feed(.begin)
        harness.feed(.started(H.id(4)))
        harness.feed(.healthy(H.id(4)))
        #expect(harness.actions.contains(.warmUp(H.id(4))))
        #expect(harness.candidateWeight == 0)
        harness.feed(.warmedUp(H.id(4)))
        #expect(harness.candidateWeight == 1_000)
    }

    @Test func maxDurationBoundsEvenAnOpenPause() {
        var harness = started([.weight(percent(10)), .pause(nil)])
        harness.settle()
        harness.advance(.seconds(3_600))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback?.reason.contains("maxDuration 1h") == true)
    }
}
