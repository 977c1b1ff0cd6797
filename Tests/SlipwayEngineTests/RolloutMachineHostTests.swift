import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// A host that cannot be reached during a rollout: the rollout holds, then goes on or goes back.
@Suite struct RolloutMachineHostTests {
    typealias H = RolloutHarness

    /// A canary of 3 at 50% (candidates 4 and 5 ready), waiting in a 30 s pause.
    func paused(progressDeadline: Duration = .seconds(60)) -> H {
        let steps: [CanarySpec.Step] = [.weight(percent(50)), .pause(.seconds(30))]
        var harness = H(H.plan(.canary(CanarySpec(steps: steps)), progressDeadline: progressDeadline))
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    @Test func aLostHostHoldsTheRolloutWithItsInstancesOutOfTheRoutesUntilItIsBack() {
        var harness = paused()
        #expect(harness.machine.currentStep == .pause(.seconds(30)))
        #expect(harness.routed == [H.id(1), H.id(2), H.id(3), H.id(4), H.id(5)])

        harness.advance(.seconds(5))
        harness.feed(.hostUnreachable("h2", instances: [H.id(2), H.id(5)]))
        #expect(harness.routed == [H.id(1), H.id(3), H.id(4)])
        #expect(harness.machine.stateName == "paused")
        let held = harness.last(.rolloutHeld)
        #expect(held?.fields["host"] == "h2")
        #expect(held?.fields["instances"] == .array(["shop-2", "shop-5"]))
        // Nothing is started in their place while the rollout holds.
        #expect(harness.launched.isEmpty && harness.stopping.isEmpty)

        // The pause ends, but the rollout does not move while the host is lost.
        harness.advance(.seconds(30))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .pause(.seconds(30)))
        #expect(harness.machine.waitingFor?.contains("host h2 cannot be reached") == true)
        #expect(harness.machine.rollback == nil)

        // Back: its instances return once probed, and the rollout goes on to promotion.
        harness.advance(.seconds(5))
        harness.feed(.hostReachable("h2"))
        #expect(harness.last(.rolloutHoldLifted)?.fields["heldForMs"] == 35_000)
        harness.feed(.healthy(H.id(2)))
        harness.feed(.healthy(H.id(5)))
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
    }

    @Test func aHostLostForLongerThanTheProgressDeadlineSendsTheRolloutBackOnTheOthers() {
        var harness = paused(progressDeadline: .seconds(20))
        harness.feed(.hostUnreachable("h3", instances: [H.id(3), H.id(4)]))
        harness.advance(.seconds(19))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        #expect(harness.actions.contains(.scheduleTimer(at: Moment(.seconds(20)))))

        harness.advance(.seconds(1))
        harness.feed(.timerFired)
        let back = harness.last(.rolloutRollingBack)
        #expect(back?.fields["reason"] == "host h3 could not be reached for 20s (progressDeadline)")
        #expect(back?.fields["host"] == "h3")
        #expect(harness.candidateWeight == 0)
        // A stable instance takes the place of the lost one on a host that answers; the lost candidate is asked to
        // stop at once (its stop comes when its host is back), the other once the stable release is whole.
        #expect(harness.launched == [H.id(6)])
        #expect(harness.stopping == [H.id(4)])
        harness.feed(.started(H.id(6)))
        harness.feed(.healthy(H.id(6)))
        #expect(harness.stopping == [H.id(4), H.id(5)])
        harness.feed(.exited(H.id(5), status: "exit 0"))
        // Ended without waiting for the lost host.
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.machine.instances[H.id(4)]?.phase == .stopping)
        #expect(harness.machine.instances[H.id(3)] != nil)
    }

    @Test func aHostBackBeforeTheDeadlineNeverSendsTheRolloutBack() {
        var harness = paused(progressDeadline: .seconds(20))
        harness.feed(.hostUnreachable("h1", instances: [H.id(1)]))
        harness.advance(.seconds(10))
        harness.feed(.hostReachable("h1"))
        harness.feed(.healthy(H.id(1)))
        harness.advance(.seconds(15))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        #expect(harness.last(.rolloutHoldLifted)?.fields["host"] == "h1")
    }
}
