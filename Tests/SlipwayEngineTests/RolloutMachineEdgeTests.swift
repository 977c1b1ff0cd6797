import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// Transitions the strategy tests do not walk: failures in the middle of recreate and blue-green, restored
/// rollbacks, deadlines of work steps, and user pauses that hold deadlines.
@Suite struct RolloutMachineEdgeTests {
    typealias H = RolloutHarness

    @Test func aFailedRecreateStartsTheStableSetAgain() {
        var harness = H(H.plan(.recreate))
        harness.feed(.begin)
        harness.settle(healthy: false)
        // Every stable instance is gone; the candidates never become healthy.
        #expect(harness.machine.instances.values.allSatisfy { $0.role == .candidate })
        for id in harness.machine.instances.keys.sorted() {
            harness.feed(.failedToStart(id, reason: "not healthy"))
        }
        #expect(harness.machine.rollback != nil)
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.machine.instances.count == 3)
        #expect(harness.machine.instances.values.allSatisfy { $0.role == .stable && $0.phase == .ready })
        #expect(harness.routes.count == 3)
    }

    @Test func aBlueGreenCandidateCrashingWhileTheOldSetIsWarmSwitchesBack() {
        var harness = H(H.plan(.blueGreen(BlueGreenSpec(scaleDownDelay: .seconds(30)))))
        harness.feed(.begin)
        harness.settle()
        #expect(harness.candidateWeight == 10_000)
        harness.feed(.exited(H.id(5), status: "signal 11 (SIGSEGV)"))
        #expect(harness.candidateWeight == 0)
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3)])
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
    }

    @Test func afterTheOldSetIsGoneAFailingCandidateIsReplacedNotRolledBack() {
        var harness = H(H.plan(.canary(CanarySpec(steps: [.weight(percent(50))]))))
        harness.feed(.begin)
        harness.feed(.started(H.id(4)))
        harness.feed(.healthy(H.id(4)))
        harness.feed(.started(H.id(5)))
        harness.feed(.healthy(H.id(5)))
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        // The ended machine takes no more input: supervision owns the app now.
        #expect(harness.feed(.exited(H.id(4), status: "exit 1")).isEmpty || harness.machine.outcome == .promoted)
    }

    @Test func aWorkStepThatNeverFinishesRollsBackAtItsDeadlineSayingWhatItWaitedFor() {
        var harness = H(H.plan(.canary(CanarySpec(steps: canarySteps)), progressDeadline: .seconds(60)))
        harness.feed(.begin)
        harness.feed(.started(H.id(4)))
        harness.advance(.seconds(60))
        harness.feed(.timerFired)
        let reason = harness.machine.rollback?.reason ?? ""
        #expect(reason.contains("step 1 (start candidate instances (1)) did not finish within progressDeadline 1m"))
        #expect(reason.contains("0 of 1 candidate instances are ready"))
    }

    @Test func aUserPauseHoldsTheStepDeadline() {
        var harness = H(H.plan(.canary(CanarySpec(steps: canarySteps)), progressDeadline: .seconds(60)))
        harness.feed(.begin)
        harness.feed(.started(H.id(4)))
        harness.advance(.seconds(50))
        harness.command(.pause)
        harness.advance(.seconds(600))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        harness.command(.resume)
        harness.advance(.seconds(9))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        harness.advance(.seconds(1))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback != nil)
    }

    @Test func aRestoredRollbackKeepsGoingBack() {
        let plan = H.plan(.canary(CanarySpec(steps: canarySteps)))
        var harness = H(
            machine: RolloutMachine(
                restoring: plan,
                step: 2,
                pausedByUser: false,
                rollback: (.rolledBack, "fail-fast check failed"),
                alive: [H.id(1): .stable, H.id(2): .stable, H.id(3): .stable, H.id(4): .candidate],
                firstInstanceNumber: 5,
                startedAt: .zero
            )
        )
        harness.feed(.begin)
        for number in 1...4 {
            harness.feed(.started(H.id(number)))
            harness.feed(.healthy(H.id(number)))
        }
        #expect(harness.candidateWeight == 0)
        #expect(harness.stopping == [H.id(4)])
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.last(.rolloutFinished)?.fields["reason"] == "fail-fast check failed")
    }

    @Test func promoteEndsTheKeepOldSetWaitAtOnce() {
        var harness = H(H.plan(.blueGreen(BlueGreenSpec(scaleDownDelay: .seconds(300)))))
        harness.feed(.begin)
        harness.settle()
        #expect(harness.stopping.isEmpty)
        #expect(harness.command(.promote(full: false)).accepted)
        #expect(harness.stopping.count == 3)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
    }
}

extension RolloutHarness {
    /// Instances in the latest routes, as a list.
    var routes: [InstanceID] { machine.routes.instances }
}
