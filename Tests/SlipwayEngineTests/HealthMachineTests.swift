import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct HealthMachineTests {
    let policy = HealthMachine.Policy(
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        startDeadline: .seconds(10),
        unhealthyGrace: .seconds(3)
    )

    func at(_ seconds: Double) -> Moment { Moment(.milliseconds(Int64(seconds * 1000))) }

    @Test func becomesHealthyAfterConsecutiveSuccesses() {
        var machine = HealthMachine(policy: policy, startedAt: at(0))
        #expect(machine.probeSucceeded(at: at(1)) == nil)
        #expect(machine.state == .starting(since: at(0), successes: 1))
        #expect(machine.probeSucceeded(at: at(2)) == .becameHealthy(startup: .seconds(2)))
        #expect(machine.state == .healthy(failures: 0))
        #expect(machine.nextDeadline == nil)
    }

    @Test func failuresWhileStartingResetTheSuccessCountButDoNotFail() {
        var machine = HealthMachine(policy: policy, startedAt: at(0))
        _ = machine.probeSucceeded(at: at(1))
        for second in 2...6 {
            #expect(machine.probeFailed(at: at(Double(second)), reason: "connection refused") == nil)
        }
        #expect(machine.state == .starting(since: at(0), successes: 0))
        #expect(machine.probeSucceeded(at: at(7)) == nil)
        #expect(machine.probeSucceeded(at: at(8)) == .becameHealthy(startup: .seconds(8)))
    }

    @Test func failsWhenTheStartDeadlinePasses() {
        var machine = HealthMachine(policy: policy, startedAt: at(0))
        #expect(machine.nextDeadline == at(10))
        _ = machine.probeFailed(at: at(5), reason: "HTTP 503")
        #expect(machine.tick(at: at(9.999)) == nil)
        #expect(machine.tick(at: at(10)) == .failedToStart(reason: "not healthy within 10s; last probe: HTTP 503"))
        #expect(machine.state == .failed)
        // Terminal: nothing moves it again.
        #expect(machine.probeSucceeded(at: at(11)) == nil)
        #expect(machine.probeSucceeded(at: at(12)) == nil)
        #expect(machine.state == .failed)
    }

    @Test func aLateSuccessAfterTheDeadlineStillFails() {
        var machine = HealthMachine(policy: policy, startedAt: at(0))
        _ = machine.probeSucceeded(at: at(9))
        #expect(machine.probeSucceeded(at: at(10.5)) == .failedToStart(reason: "not healthy within 10s"))
    }

    @Test func healthyBecomesUnhealthyAfterThresholdFailuresInARow() {
        var machine = healthyMachine()
        #expect(machine.probeFailed(at: at(3), reason: "HTTP 500") == nil)
        #expect(machine.probeFailed(at: at(4), reason: "HTTP 500") == nil)
        // A success in between resets the count.
        #expect(machine.probeSucceeded(at: at(5)) == nil)
        #expect(machine.probeFailed(at: at(6), reason: "HTTP 500") == nil)
        #expect(machine.probeFailed(at: at(7), reason: "HTTP 500") == nil)
        #expect(
            machine.probeFailed(at: at(8), reason: "timed out after 500ms")
                == .becameUnhealthy(reason: "timed out after 500ms")
        )
        #expect(machine.state == .unhealthy(since: at(8), successes: 0))
    }

    @Test func unhealthyRecoversAfterThresholdSuccesses() {
        var machine = unhealthyMachine(since: 8)
        #expect(machine.probeSucceeded(at: at(9)) == nil)
        #expect(machine.probeSucceeded(at: at(10)) == .becameHealthy(startup: nil))
        #expect(machine.state == .healthy(failures: 0))
    }

    @Test func unhealthyForTheWholeGraceIsGivenUpOn() {
        var machine = unhealthyMachine(since: 8)
        #expect(machine.nextDeadline == at(11))
        // One success is not recovery (threshold 2); the grace is counted from becoming unhealthy.
        #expect(machine.probeSucceeded(at: at(9)) == nil)
        #expect(machine.probeFailed(at: at(10), reason: "HTTP 500") == nil)
        #expect(machine.tick(at: at(11)) == .stayedUnhealthy(for: .seconds(3)))
        #expect(machine.state == .failed)
    }

    private func healthyMachine() -> HealthMachine {
        var machine = HealthMachine(policy: policy, startedAt: at(0))
        _ = machine.probeSucceeded(at: at(1))
        _ = machine.probeSucceeded(at: at(2))
        return machine
    }

    private func unhealthyMachine(since: Double) -> HealthMachine {
        var machine = healthyMachine()
        _ = machine.probeFailed(at: at(since - 2), reason: "HTTP 500")
        _ = machine.probeFailed(at: at(since - 1), reason: "HTTP 500")
        _ = machine.probeFailed(at: at(since), reason: "HTTP 500")
        return machine
    }
}
