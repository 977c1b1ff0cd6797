import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// Every user command in every state of a canary.
@Suite struct RolloutMachineCommandTests {
    typealias H = RolloutHarness

    enum State: String, CaseIterable, CustomTestStringConvertible {
        case startingCandidate, timedPause, analysis, openPause, pausedByUser, rollingBack, promoted, rolledBack
        var testDescription: String { rawValue }
    }

    static let steps: [CanarySpec.Step] = [
        .weight(percent(10)), .pause(.seconds(30)), .analysis(AnalysisStepSpec(windows: 2)), .pause(nil),
    ]

    func machine(in state: State) -> H {
        var harness = H(H.plan(.canary(CanarySpec(steps: Self.steps))))
        harness.feed(.begin)
        switch state {
        case .startingCandidate:
            break
        case .timedPause:
            harness.settle()
        case .analysis:
            harness.settle()
            harness.advance(.seconds(30))
            harness.feed(.timerFired)
        case .openPause:
            harness.settle()
            harness.advance(.seconds(30))
            harness.feed(.timerFired)
            harness.window(candidate: (50, 0))
            harness.window(candidate: (50, 0))
        case .pausedByUser:
            harness.settle()
            harness.command(.pause)
        case .rollingBack:
            harness.settle()
            harness.command(.abort)
        case .promoted:
            harness.settle()
            harness.command(.promote(full: true))
            harness.settle()
        case .rolledBack:
            harness.settle()
            harness.command(.abort)
            harness.settle()
        }
        return harness
    }

    @Test(arguments: State.allCases)
    func promote(in state: State) {
        var harness = machine(in: state)
        let stepBefore = harness.machine.stepIndex
        let result = harness.command(.promote(full: false))
        switch state {
        case .startingCandidate, .rollingBack, .rolledBack:
            #expect(!result.accepted)
            #expect(harness.machine.stepIndex == stepBefore)
        case .timedPause, .analysis, .openPause:
            #expect(result.accepted)
            #expect(harness.machine.stepIndex == stepBefore + 1)
        case .pausedByUser:
            #expect(result.accepted)
            #expect(!harness.machine.pausedByUser)
            #expect(harness.machine.stepIndex == stepBefore + 1)
        case .promoted:
            #expect(result.accepted)
            #expect(result.message.contains("already promoted"))
        }
    }

    @Test(arguments: State.allCases)
    func promoteFull(in state: State) {
        var harness = machine(in: state)
        let result = harness.command(.promote(full: true))
        switch state {
        case .rollingBack, .rolledBack:
            #expect(!result.accepted)
        default:
            #expect(result.accepted)
            harness.settle()
            #expect(harness.machine.outcome == .promoted)
            // Asking again changes nothing.
            #expect(harness.command(.promote(full: true)).accepted)
            #expect(harness.machine.outcome == .promoted)
        }
    }

    @Test(arguments: State.allCases)
    func abort(in state: State) {
        var harness = machine(in: state)
        let result = harness.command(.abort)
        switch state {
        case .promoted:
            #expect(!result.accepted)
            #expect(harness.machine.outcome == .promoted)
        case .rolledBack:
            #expect(result.accepted)
            #expect(harness.machine.outcome == .aborted)
        default:
            #expect(result.accepted)
            #expect(harness.candidateWeight == 0)
            // Idempotent: a second abort is accepted and changes nothing.
            let actionsBefore = harness.actions.count
            #expect(harness.command(.abort).accepted)
            #expect(harness.actions.count == actionsBefore)
            harness.settle()
            #expect(harness.machine.outcome == .aborted)
        }
    }

    @Test(arguments: State.allCases)
    func pauseAndResume(in state: State) {
        var harness = machine(in: state)
        let paused = harness.command(.pause)
        switch state {
        case .rollingBack, .rolledBack, .promoted:
            #expect(!paused.accepted)
            #expect(!harness.machine.pausedByUser)
        default:
            #expect(paused.accepted)
            #expect(harness.machine.pausedByUser)
            #expect(harness.machine.stateName == "paused")
            #expect(harness.command(.pause).accepted)
            // Paused: the clock does not move the rollout on.
            let step = harness.machine.stepIndex
            harness.settle()
            harness.advance(.seconds(120))
            harness.feed(.timerFired)
            #expect(harness.machine.stepIndex == step)
            #expect(harness.machine.rollback == nil)
            #expect(harness.command(.resume).accepted)
            #expect(!harness.machine.pausedByUser)
            #expect(harness.command(.resume).accepted)
        }
    }

    @Test(arguments: State.allCases)
    func rollback(in state: State) {
        var harness = machine(in: state)
        let result = harness.command(.rollback(to: nil))
        switch state {
        case .promoted, .rolledBack:
            #expect(!result.accepted)
        default:
            #expect(result.accepted)
            harness.settle()
            #expect(harness.machine.outcome == (state == .rollingBack ? .aborted : .rolledBack))
        }
        #expect(!harness.command(.rollback(to: "0.9.0")).accepted || state == .rolledBack)
    }

    @Test(arguments: State.allCases)
    func retry(in state: State) {
        var harness = machine(in: state)
        // Retrying starts a new rollout, which is the executor's work: the machine itself always refuses.
        #expect(!harness.command(.retry).accepted)
    }

    @Test func supersedingGoesBackToStableFirst() {
        var harness = machine(in: .timedPause)
        harness.note(harness.machine.supersede(by: "3.0.0", at: harness.now))
        #expect(harness.candidateWeight == 0)
        harness.settle()
        #expect(harness.machine.outcome == .superseded)
        #expect(harness.last(.rolloutFinished)?.fields["reason"] == "superseded by a deploy of 3.0.0")
    }
}
