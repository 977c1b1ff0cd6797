import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct SupervisorMachineTests {
    let policy = SupervisorMachine.Policy(
        app: "shop",
        version: "1.0.0",
        instances: 3,
        backoff: CrashBackoff(initial: .seconds(1), maximum: .seconds(8)),
        resetAfter: .seconds(60)
    )

    func at(_ seconds: Int) -> Moment { Moment(.seconds(seconds)) }
    func id(_ number: Int) -> InstanceID { InstanceID(app: "shop", number: number) }

    func startedMachine(at seconds: Int = 0) -> SupervisorMachine {
        var machine = SupervisorMachine(policy: policy)
        _ = machine.handle(.begin, at: at(seconds))
        for number in 1...3 {
            _ = machine.handle(.started(id(number)), at: at(seconds))
            _ = machine.handle(.healthy(id(number)), at: at(seconds + 1))
        }
        return machine
    }

    @Test func instancesBeyondTheCountStopOnceEnoughAreHealthyNotHealthyOnesFirstThenTheNewest() {
        // Taken over after a rollout went back while a host was cut off: its instance (1) is not healthy, and 4
        // took its place.
        var machine = SupervisorMachine(
            policy: policy,
            firstInstanceNumber: 5,
            adopting: [id(1): .unhealthy, id(2): .healthy, id(3): .healthy, id(4): .starting]
        )
        #expect(machine.handle(.begin, at: at(0)) == [])
        // Only once enough are healthy is one stopped, the one not healthy first.
        let stopped = machine.handle(.healthy(id(4)), at: at(1))
        #expect(stopped.first == .stop(id(1), reason: "more than the app's 3 instances"))
        #expect(machine.phases[id(1)] == .stopping)

        // All healthy and one too many: the newest goes.
        var more = SupervisorMachine(
            policy: policy,
            firstInstanceNumber: 5,
            adopting: [id(1): .healthy, id(2): .healthy, id(3): .healthy, id(4): .healthy]
        )
        #expect(more.handle(.begin, at: at(0)).first == .stop(id(4), reason: "more than the app's 3 instances"))
        #expect(more.handle(.timerFired, at: at(1)) == [])
    }

    @Test func beginStartsTheInstanceCount() {
        var machine = SupervisorMachine(policy: policy, firstInstanceNumber: 7)
        let actions = machine.handle(.begin, at: at(0))
        #expect(
            actions == [
                .start(InstanceID("shop-7"), version: "1.0.0"),
                .start(InstanceID("shop-8"), version: "1.0.0"),
                .start(InstanceID("shop-9"), version: "1.0.0"),
            ]
        )
        #expect(machine.phases.values.allSatisfy { $0 == .launching })
        // Asking again while they launch starts nothing more.
        #expect(machine.handle(.begin, at: at(0)) == [])
    }

    @Test func anUnexpectedExitIsReplacedAtOnce() {
        var machine = startedMachine()
        let actions = machine.handle(.exited(id(2), status: "signal 9 (SIGKILL)"), at: at(30))
        #expect(
            actions == [
                .record(
                    Event(
                        app: "shop",
                        kind: .instanceReplaced,
                        instance: id(2),
                        fields: ["by": "shop-4", "reason": "exited with signal 9 (SIGKILL)"]
                    )
                ),
                .start(id(4), version: "1.0.0"),
            ]
        )
        #expect(machine.phases[id(2)] == nil)
        #expect(machine.consecutiveFailures == 1)
    }

    @Test func repeatedFailuresBackOffExponentiallyUpToTheCap() {
        var machine = startedMachine()
        var next = 4
        var delays: [String] = []
        var victim = id(1)
        for second in stride(from: 10, to: 70, by: 10) {
            let actions = machine.handle(.exited(victim, status: "status 1"), at: at(second))
            if case .record(let event) = actions.first, event.kind == .crashLoopBackoff {
                delays.append(event.fields["delay"]?.stringValue ?? "?")
                guard case .scheduleTimer(let moment) = actions.last else {
                    Issue.record("backoff without a timer: \(actions)")
                    return
                }
                #expect(machine.handle(.timerFired, at: moment - .milliseconds(1)) == [.scheduleTimer(at: moment)])
                let restart = machine.handle(.timerFired, at: moment)
                #expect(restart.last == .start(id(next), version: "1.0.0"))
            } else {
                delays.append("0")
                #expect(actions.last == .start(id(next), version: "1.0.0"))
            }
            _ = machine.handle(.started(id(next)), at: at(second + 1))
            victim = id(next)
            next += 1
        }
        #expect(delays == ["0", "1s", "2s", "4s", "8s", "8s"])
        #expect(machine.consecutiveFailures == 6)
    }

    @Test func anInstanceThatRanLongEnoughResetsTheFailureCount() {
        var machine = startedMachine()
        _ = machine.handle(.exited(id(1), status: "status 1"), at: at(5))
        _ = machine.handle(.started(id(4)), at: at(5))
        #expect(machine.consecutiveFailures == 1)
        // shop-4 ran 100 s before failing: a fresh streak, replaced at once.
        let actions = machine.handle(.exited(id(4), status: "status 1"), at: at(105))
        #expect(machine.consecutiveFailures == 1)
        #expect(actions.last == .start(id(5), version: "1.0.0"))
    }

    @Test func aStartFailureCountsAndIsRetriedWithBackoff() {
        var machine = SupervisorMachine(
            policy: SupervisorMachine.Policy(
                app: "shop",
                version: "1.0.0",
                instances: 1,
                backoff: CrashBackoff(initial: .seconds(1), maximum: .seconds(8)),
                resetAfter: .seconds(60)
            )
        )
        #expect(machine.handle(.begin, at: at(0)) == [.start(id(1), version: "1.0.0")])
        let first = machine.handle(.startFailed(id(1), reason: "executable \"x\" not found"), at: at(0))
        #expect(first.last == .start(id(2), version: "1.0.0"))
        let second = machine.handle(.startFailed(id(2), reason: "executable \"x\" not found"), at: at(0))
        #expect(second.count == 2)
        guard case .record(let event) = second.first else {
            Issue.record("expected a backoff event, got \(second)")
            return
        }
        #expect(event.kind == .crashLoopBackoff)
        #expect(event.fields["failures"] == 2)
        #expect(event.fields["reason"] == "could not start: executable \"x\" not found")
        #expect(second.last == .scheduleTimer(at: at(1)))
    }

    @Test func failedToStartIsStoppedAndReplaced() {
        var machine = SupervisorMachine(policy: policy)
        _ = machine.handle(.begin, at: at(0))
        _ = machine.handle(.started(id(1)), at: at(0))
        let actions = machine.handle(.failedToStart(id(1), reason: "not healthy within 30s"), at: at(30))
        #expect(actions.first == .stop(id(1), reason: "not healthy within 30s"))
        #expect(actions.last == .start(id(4), version: "1.0.0"))
        #expect(machine.phases[id(1)] == .stopping)
        // Its exit is expected now: no second replacement.
        #expect(machine.handle(.exited(id(1), status: "signal 15 (SIGTERM)"), at: at(31)) == [])
        #expect(machine.phases.count == 3)
    }

    @Test func stayingUnhealthyIsStoppedAndReplaced() {
        var machine = startedMachine()
        _ = machine.handle(.unhealthy(id(3)), at: at(20))
        #expect(machine.phases[id(3)] == .unhealthy)
        let actions = machine.handle(.stayedUnhealthy(id(3), reason: "unhealthy for 3s"), at: at(23))
        #expect(actions.first == .stop(id(3), reason: "unhealthy for 3s"))
        #expect(actions.last == .start(id(4), version: "1.0.0"))
    }

    @Test func recoveryFromUnhealthyKeepsTheInstance() {
        var machine = startedMachine()
        _ = machine.handle(.unhealthy(id(3)), at: at(20))
        #expect(machine.handle(.healthy(id(3)), at: at(21)) == [])
        #expect(machine.phases[id(3)] == .healthy)
    }

    @Test func shutdownStopsEverythingAndStartsNothingMore() {
        var machine = startedMachine()
        let actions = machine.handle(.shutdown, at: at(50))
        #expect(actions.filter { if case .stop = $0 { return true } else { return false } }.count == 3)
        #expect(!machine.isStopped)
        _ = machine.handle(.exited(id(1), status: "status 0"), at: at(51))
        _ = machine.handle(.exited(id(2), status: "status 0"), at: at(51))
        #expect(machine.handle(.timerFired, at: at(52)) == [])
        #expect(machine.handle(.exited(id(3), status: "status 0"), at: at(52)) == [])
        #expect(machine.isStopped)
    }

    @Test func exitBeforeTheStartWasReportedCountsAsAFailure() {
        var machine = SupervisorMachine(policy: policy)
        _ = machine.handle(.begin, at: at(0))
        let actions = machine.handle(.exited(id(1), status: "status 2"), at: at(0))
        #expect(actions.last == .start(id(4), version: "1.0.0"))
        // The late start report is ignored.
        #expect(machine.handle(.started(id(1)), at: at(0)) == [])
        #expect(machine.phases[id(1)] == nil)
    }

    @Test func unknownInstancesAreIgnored() {
        var machine = startedMachine()
        #expect(machine.handle(.exited(InstanceID("shop-99"), status: "status 1"), at: at(5)) == [])
        #expect(machine.handle(.healthy(InstanceID("shop-99")), at: at(5)) == [])
        #expect(machine.phases.count == 3)
    }
}

@Suite struct CrashBackoffTests {
    @Test func delaysDoubleFromTheSecondFailureAndCap() {
        let backoff = CrashBackoff(initial: .milliseconds(500), maximum: .seconds(3))
        let delays = (0...7).map { backoff.delay(afterFailures: $0) }
        #expect(
            delays == [
                .zero, .zero, .milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3),
            ]
        )
    }

    @Test func hugeFailureCountsDoNotOverflow() {
        let backoff = CrashBackoff(initial: .seconds(1), maximum: .seconds(30))
        #expect(backoff.delay(afterFailures: 10_000) == .seconds(30))
    }
}
