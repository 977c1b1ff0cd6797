import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RolloutMachineStrategyTests {
    typealias H = RolloutHarness

    @Test(arguments: [
        (
            3, 1, 0,
            [
                RolloutStep.scaleCandidate(1), .scaleStable(2), .scaleCandidate(2), .scaleStable(1),
                .scaleCandidate(3), .scaleStable(0),
            ]
        ),
        (
            3, 0, 1,
            [
                RolloutStep.scaleStable(2), .scaleCandidate(1), .scaleStable(1), .scaleCandidate(2),
                .scaleStable(0), .scaleCandidate(3),
            ]
        ),
        (4, 2, 0, [RolloutStep.scaleCandidate(2), .scaleStable(2), .scaleCandidate(4), .scaleStable(0)]),
        (2, 5, 0, [RolloutStep.scaleCandidate(2), .scaleStable(0)]),
    ])
    func rollingBatchesKeepSurgeAndAvailability(total: Int, surge: Int, unavailable: Int, expected: [RolloutStep]) {
        #expect(
            RolloutPlan.rollingSteps(total: total, surge: surge, unavailable: unavailable, analysis: nil) == expected
        )
    }

    @Test func rollingReplacesBatchByBatchWithTrafficSharedByReadyInstances() {
        let rolling = RollingSpec(maxSurge: .count(1), maxUnavailable: .count(0))
        var harness = H(H.plan(.rolling(rolling)))
        harness.feed(.begin)
        #expect(harness.launched == [H.id(4)])
        harness.feed(.started(H.id(4)))
        harness.feed(.healthy(H.id(4)))
        // Four ready instances share traffic equally until the surplus stable one is drained.
        #expect(harness.stopping == [H.id(1)])
        #expect(harness.routed == [H.id(2), H.id(3), H.id(4)])
        #expect(harness.candidateWeight == 3_333)
        // The next batch waits for the old instance to exit (maxSurge 1).
        #expect(harness.launched == [H.id(4)])
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.routed == [H.id(4), H.id(5), H.id(6)])
        #expect(harness.candidateWeight == 10_000)
    }

    @Test func aFailingRollingBatchRestoresEveryReplacedInstance() {
        let rolling = RollingSpec(maxSurge: .count(1), maxUnavailable: .count(0))
        var second = H(H.plan(.rolling(rolling)))
        second.feed(.begin)
        second.feed(.started(H.id(4)))
        second.feed(.healthy(H.id(4)))
        second.feed(.exited(H.id(1), status: "exit 0"))
        #expect(second.launched == [H.id(4), H.id(5)])
        second.feed(.started(H.id(5)))
        second.feed(.failedToStart(H.id(5), reason: "not healthy"))
        #expect(second.machine.rollback != nil)
        // Stable goes back to 3 instances, then the candidates stop.
        #expect(second.launched.contains(H.id(6)))
        #expect(second.machine.instances[H.id(4)]?.phase == .ready)
        second.settle()
        #expect(second.machine.outcome == .rolledBack)
        #expect(second.routed == [H.id(2), H.id(3), H.id(6)])
        #expect(second.machine.instances.values.allSatisfy { $0.role == .stable })
    }

    @Test func blueGreenPreviewsThenSwitchesAllTrafficAtOnceAndKeepsTheOldSetWarm() {
        let blueGreen = BlueGreenSpec(
            previewListen: HostPort(host: "127.0.0.1", port: 0),
            prePromotion: AnalysisStepSpec(windows: 1),
            autoPromote: false,
            scaleDownDelay: .seconds(30)
        )
        var harness = H(H.plan(.blueGreen(blueGreen)))
        harness.feed(.begin)
        #expect(harness.launched.count == 3)
        harness.settle()
        #expect(harness.candidateWeight == 0)
        #expect(harness.machine.routes.preview == [H.id(4), H.id(5), H.id(6)])
        // Pre-promotion analysis reads the preview listener's traffic.
        harness.window(candidate: (0, 0), preview: (40, 0))
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "pass")
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(harness.candidateWeight == 0)
        #expect(harness.command(.promote(full: false)).accepted)
        #expect(harness.candidateWeight == 10_000)
        #expect(harness.machine.routes.groups.first { $0.version == "1.0.0" }?.weight == 0)
        #expect(harness.kinds.contains(.rolloutPromoted))
        // The old set keeps running for scaleDownDelay: rollback is instant.
        #expect(harness.stopping.isEmpty)
        #expect(harness.command(.rollback(to: nil)).accepted)
        #expect(harness.candidateWeight == 0)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
    }

    @Test func blueGreenScalesTheOldSetDownAfterTheDelay() {
        var harness = H(H.plan(.blueGreen(BlueGreenSpec(scaleDownDelay: .seconds(30)))))
        harness.feed(.begin)
        harness.settle()
        #expect(harness.candidateWeight == 10_000)
        #expect(harness.stopping.isEmpty)
        harness.advance(.seconds(30))
        harness.feed(.timerFired)
        #expect(harness.stopping.count == 3)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
    }

    @Test func blueGreenPostPromotionFailureSwitchesBack() {
        let blueGreen = BlueGreenSpec(postPromotion: AnalysisStepSpec(windows: 3), scaleDownDelay: .seconds(30))
        var harness = H(H.plan(.blueGreen(blueGreen)))
        harness.feed(.begin)
        harness.settle()
        harness.window(stable: (0, 0), candidate: (100, 50))
        #expect(harness.machine.rollback != nil)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
    }

    @Test func recreateStopsEverythingFirst() {
        var harness = H(H.plan(.recreate))
        harness.feed(.begin)
        #expect(harness.stopping.count == 3)
        #expect(harness.launched.isEmpty)
        #expect(harness.routed.isEmpty)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.routed == [H.id(4), H.id(5), H.id(6)])
    }

    @Test func aRestartReplacesOneInstanceAtATimeOnTheSameVersion() {
        var harness = H(H.plan(.canary(CanarySpec(steps: canarySteps)), purpose: .restart, candidate: "1.0.0"))
        harness.feed(.begin)
        #expect(harness.launched == [H.id(4)])
        harness.feed(.started(H.id(4)))
        harness.feed(.healthy(H.id(4)))
        #expect(harness.machine.routes.groups.count == 1)
        #expect(harness.routed == [H.id(2), H.id(3), H.id(4)])
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.machine.plan.strategyName == "rolling restart")
        // A restart never judges the candidate: the same version on both sides.
        harness.window(candidate: (10, 10))
        #expect(harness.machine.outcome == .promoted)
    }

    @Test func aRollbackReleaseSwitchesOnceTheWholeSetIsReady() {
        var harness = H(H.plan(.canary(CanarySpec(steps: canarySteps)), purpose: .rollback))
        harness.feed(.begin)
        #expect(harness.launched.count == 3)
        harness.feed(.started(H.id(4)))
        harness.feed(.healthy(H.id(4)))
        #expect(harness.candidateWeight == 0)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.candidateWeight == 10_000)
    }

    @Test func aRestoredRolloutStartsWhatIsMissingAndRoutesOnlyHealthyInstances() {
        let plan = H.plan(.canary(CanarySpec(steps: [.weight(percent(25)), .pause(nil)])), instances: 4)
        var machine = RolloutMachine(
            restoring: plan,
            step: 2,
            pausedByUser: false,
            rollback: nil,
            alive: [H.id(1): .stable, H.id(2): .stable, H.id(3): .stable, H.id(4): .stable],
            firstInstanceNumber: 6,
            startedAt: .zero
        )
        var harness = H(machine: machine)
        harness.feed(.begin)
        // The candidate (shop-5) died with the controller: a new one starts; nothing is routed before health.
        #expect(harness.launched == [H.id(6)])
        #expect(harness.routed.isEmpty)
        #expect(harness.kinds.contains(.rolloutResumed))
        for number in 1...4 {
            harness.feed(.started(H.id(number)))
            harness.feed(.healthy(H.id(number)))
        }
        #expect(harness.routed.count == 4)
        harness.settle()
        #expect(harness.candidateWeight == 2_500)
        #expect(harness.machine.currentStep == .pause(nil))
        machine = harness.machine
        #expect(machine.stateName == "paused")
    }
}
