import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RolloutMachineHookTests {
    typealias H = RolloutHarness

    static let hooks: [HookPoint: [String]] = [
        .preDeploy: ["snapshot"], .prePromotion: ["smoke", "approval"], .postPromotion: ["announce"],
        .onRollback: ["restore"],
    ]

    static func plan(
        _ kind: StrategySpec.Kind = .canary(CanarySpec(steps: [.weight(Percentage(basisPoints: 2_500))]))
    )
        -> RolloutPlan
    {
        var plan = H.plan(kind)
        plan.hooks = hooks
        return plan
    }

    static func runs(_ harness: H) -> [HookPoint] {
        harness.actions.compactMap { if case .runHooks(let point) = $0 { return point } else { return nil } }
    }

    @Test func preDeployHooksRunFirstAndPrePromotionHooksGuardTheFinale() {
        let compiled = Self.plan().compile()
        #expect(compiled.steps.first == .hooks(.preDeploy, names: ["snapshot"]))
        #expect(compiled.steps[compiled.finale] == .hooks(.prePromotion, names: ["smoke", "approval"]))
        #expect(compiled.steps[compiled.finale + 1] == .scaleCandidate(3))
        // Restarts and rollbacks run no hooks before they act.
        var restart = Self.plan()
        restart.purpose = .restart
        #expect(!restart.compile().steps.contains { if case .hooks = $0 { true } else { false } })
    }

    @Test func nothingStartsUntilThePreDeployHooksSucceed() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        #expect(Self.runs(harness) == [.preDeploy])
        #expect(harness.launched.isEmpty)
        #expect(harness.machine.waitingFor == "preDeploy hooks (snapshot)")
        // A late or unrelated answer changes nothing.
        harness.feed(.hooksFinished(.prePromotion, failure: nil))
        #expect(harness.launched.isEmpty)
        // No deadline of the step's own: the hooks' timeouts bound it; only maxDuration is scheduled.
        harness.advance(.seconds(600))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback == nil)
        harness.feed(.hooksFinished(.preDeploy, failure: nil))
        #expect(harness.launched.count == 1)
    }

    @Test func aFailingPreDeployHookEndsTheRolloutBeforeAnythingChangedAndRunsNoRollbackHook() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        harness.feed(.hooksFinished(.preDeploy, failure: "snapshot exited with status 3"))
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(
            harness.last(.rolloutFinished)?.fields["reason"] == "preDeploy hook failed: snapshot exited with status 3"
        )
        #expect(harness.last(.rolloutRollingBack)?.fields["hookPoint"] == "preDeploy")
        #expect(harness.launched.isEmpty && harness.stopping.isEmpty)
        #expect(Self.runs(harness) == [.preDeploy])
    }

    @Test func prePromotionHooksHoldTheSwitchAndPromoteCannotSkipThem() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        harness.feed(.hooksFinished(.preDeploy, failure: nil))
        harness.settle()
        #expect(harness.candidateWeight == 2_500)
        #expect(Self.runs(harness) == [.preDeploy, .prePromotion])
        #expect(harness.machine.currentStep == .hooks(.prePromotion, names: ["smoke", "approval"]))
        let refused = harness.command(.promote(full: true))
        #expect(!refused.accepted)
        #expect(refused.message.contains("never skipped"))
        #expect(harness.candidateWeight == 2_500)
        harness.feed(.hooksFinished(.prePromotion, failure: nil))
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(Self.runs(harness) == [.preDeploy, .prePromotion, .postPromotion])
        // The post-promotion hooks are asked for right after the promotion is recorded.
        let promoted = harness.actions.firstIndex {
            if case .record(let e) = $0 { e.kind == .rolloutPromoted } else { false }
        }
        let post = harness.actions.firstIndex { $0 == .runHooks(.postPromotion) }
        #expect(promoted != nil && post == promoted.map { $0 + 1 })
    }

    @Test func promoteFullFromAnEarlierStepStillRunsThePrePromotionHooks() {
        var harness = H(Self.plan(.canary(CanarySpec(steps: [.weight(Percentage(basisPoints: 1_000)), .pause(nil)]))))
        harness.feed(.begin)
        harness.feed(.hooksFinished(.preDeploy, failure: nil))
        harness.settle()
        #expect(harness.command(.promote(full: true)).accepted)
        harness.settle()
        #expect(harness.machine.outcome == nil)
        #expect(Self.runs(harness).last == .prePromotion)
        harness.feed(.hooksFinished(.prePromotion, failure: nil))
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
    }

    @Test func aFailingSmokeTestRollsBackAndRunsTheRollbackHooks() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        harness.feed(.hooksFinished(.preDeploy, failure: nil))
        harness.settle()
        harness.feed(.hooksFinished(.prePromotion, failure: "smoke exited with status 1"))
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(harness.candidateWeight == 0)
        #expect(Self.runs(harness) == [.preDeploy, .prePromotion, .onRollback])
        #expect(
            harness.last(.rolloutFinished)?.fields["reason"] == "prePromotion hook failed: smoke exited with status 1"
        )
    }

    @Test func anAbortWhileHooksRunIgnoresTheirLateAnswer() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        harness.feed(.hooksFinished(.preDeploy, failure: nil))
        harness.settle()
        #expect(harness.command(.abort).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .aborted)
        #expect(harness.feed(.hooksFinished(.prePromotion, failure: nil)).isEmpty)
        #expect(Self.runs(harness) == [.preDeploy, .prePromotion, .onRollback])
    }

    @Test func aManualRollbackRunsTheRollbackHooksWhenItEnds() {
        var plan = Self.plan()
        plan.purpose = .rollback
        var harness = H(plan)
        harness.feed(.begin)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(Self.runs(harness) == [.onRollback])
    }

    @Test func aRestoredRolloutAtAHookStepRunsItsHooksAgain() {
        let plan = Self.plan()
        var harness = H(
            machine: RolloutMachine(
                restoring: plan,
                step: 0,
                pausedByUser: false,
                rollback: nil,
                alive: [H.id(1): .stable, H.id(2): .stable, H.id(3): .stable],
                firstInstanceNumber: 4,
                startedAt: .zero
            )
        )
        harness.feed(.begin)
        #expect(Self.runs(harness) == [.preDeploy])
    }
}
