import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RolloutMachineChaosTests {
    typealias H = RolloutHarness

    static let fault = ChaosStepSpec.Fault(kind: .delay, delay: .milliseconds(300), share: percent(50))
    static let step = ChaosStepSpec(fault: fault, target: "api", before: .seconds(10), duration: .seconds(20))

    func canary(_ step: ChaosStepSpec = Self.step) -> H {
        var harness = H(H.plan(.canary(CanarySpec(steps: [.weight(percent(50)), .chaos(step), .pause(nil)]))))
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    /// Feeds a 2 s window: each version's requests at 1–5 ms, `slow` of them at the given latency.
    mutating func window(
        _ harness: inout H,
        candidateSlow: (Int, Duration) = (0, .zero),
        stableSlow: (Int, Duration) = (0, .zero),
        candidateErrors: Int = 0
    ) {
        func version(_ slow: (Int, Duration), errors: Int) -> VersionWindow {
            var buckets: [(micros: UInt64, count: Int)] = (1...5).map { (UInt64($0 * 1_000), (100 - slow.0) / 5) }
            if slow.0 > 0 {
                buckets.append(
                    (
                        UInt64(slow.1.components.seconds) * 1_000_000
                            + UInt64(slow.1.components.attoseconds / 1_000_000_000_000), slow.0
                    )
                )
            }
            let counts = LatencyCounts(buckets)
            return VersionWindow(requests: counts.total, errors: errors, latencyCounts: counts)
        }
        let start = harness.now
        harness.advance(.seconds(2))
        let window = MetricsWindow(
            start: start,
            end: harness.now,
            versions: [
                "2.0.0": version(candidateSlow, errors: candidateErrors), "1.0.0": version(stableSlow, errors: 0),
            ]
        )
        harness.feed(.metrics(window, preview: nil))
    }

    func faults(_ harness: H) -> [ChaosStepFault?] {
        harness.actions.compactMap {
            if case .setChaosFault(let fault) = $0 { return .some(fault) } else { return nil }
        }
    }

    @Test func theStepWatchesFirstThenAppliesTheFaultToTheDependency() {
        var test = self
        var harness = canary()
        #expect(harness.machine.currentStep == .chaos(Self.step))
        #expect(faults(harness) == [nil])
        #expect(harness.machine.waitingFor == "chaos: watching both versions without the fault")
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        let wanted = ChaosStepFault(app: "api", fault: Self.fault, lifetime: .seconds(80), step: 2)
        #expect(faults(harness) == [nil, wanted])
        #expect(harness.machine.waitingFor?.hasPrefix("chaos: delay 300ms on 50% of requests") == true)
        // Users stay where they were: the weight does not change for the fault.
        #expect(harness.candidateWeight == 5_000)
        #expect(harness.last(.analysisJudged)?.fields["phase"] == "before")
    }

    @Test func aCandidateAsResilientAsStablePassesOnceTheDurationIsOver() {
        var test = self
        var harness = canary()
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        for _ in 0..<10 {
            test.window(&harness, candidateSlow: (50, .milliseconds(100)), stableSlow: (50, .milliseconds(100)))
        }
        #expect(harness.machine.rollback == nil)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(faults(harness).last == .some(nil))
        let judged = harness.actions.compactMap { action -> Event? in
            if case .record(let event) = action, event.kind == .analysisJudged { return event }
            return nil
        }
        #expect(judged.last?.fields["verdict"] == "pass")
        #expect(judged.last?.fields["analysis"] == "chaos")
    }

    @Test func aCandidateThatWaitsOutTheSlowDependencyRollsBackAndTheFaultGoes() {
        var test = self
        var harness = canary()
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        var windows = 0
        while harness.machine.rollback == nil, windows < 10 {
            test.window(&harness, candidateSlow: (50, .milliseconds(300)), stableSlow: (50, .milliseconds(100)))
            windows += 1
        }
        #expect(windows <= 5)
        #expect(
            harness.machine.rollback?.reason.hasPrefix("the chaos step found 2.0.0 less resilient than 1.0.0") == true
        )
        #expect(faults(harness).last == .some(nil))
        #expect(harness.candidateWeight == 0)
        #expect(harness.last(.analysisJudged)?.fields["verdict"] == "fail")
        #expect(harness.last(.rolloutRollingBack) != nil)
    }

    @Test func windowsThatBeganBeforeTheFaultAreLeftOut() {
        var test = self
        var harness = canary()
        for _ in 0..<4 { test.window(&harness) }
        // The timer fires a second into a window: that window began before the fault.
        harness.advance(.seconds(2))
        harness.feed(.timerFired)
        #expect(faults(harness).count == 2)
        let start = harness.now - .seconds(1)
        let slow = VersionWindow(
            requests: 100,
            errors: 0,
            latencyCounts: LatencyCounts([(micros: 900_000, count: 100)])
        )
        harness.advance(.seconds(1))
        let straddling = MetricsWindow(
            start: start,
            end: harness.now,
            versions: [
                "2.0.0": slow,
                "1.0.0": VersionWindow(
                    requests: 100,
                    errors: 0,
                    latencyCounts: LatencyCounts([(micros: 1_000, count: 100)])
                ),
            ]
        )
        harness.feed(.metrics(straddling, preview: nil))
        #expect(harness.machine.resilience?.candidate.during.requests == 0)
    }

    @Test func pausingTakesTheFaultAwayAndResumingBringsItBack() {
        var test = self
        var harness = canary()
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        #expect(faults(harness).count == 2)
        #expect(harness.command(.pause).accepted)
        harness.feed(.timerFired)
        #expect(faults(harness).last == .some(nil))
        harness.advance(.seconds(30))
        #expect(harness.command(.resume).accepted)
        #expect(faults(harness).last??.app == "api")
        #expect(harness.machine.currentStep == .chaos(Self.step))
    }

    @Test func aFaultThatCannotBeAppliedRollsBack() {
        var test = self
        var harness = canary()
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        harness.feed(.chaosFaultFailed("chaos is stopped (by ops)"))
        #expect(
            harness.machine.rollback?.reason
                == "the chaos step could not put its fault in force: chaos is stopped (by ops)"
        )
        #expect(faults(harness).last == .some(nil))
    }

    @Test func tooFewRequestsHoldTheStepUntilTheDeadline() {
        var harness = canary()
        harness.advance(.seconds(10))
        harness.feed(.timerFired)
        #expect(harness.machine.waitingFor == "chaos: 100 requests of each version needed (2.0.0: 0, 1.0.0: 0)")
        #expect(faults(harness) == [nil])
        harness.advance(.seconds(80))
        harness.feed(.timerFired)
        #expect(harness.machine.rollback?.reason.contains("did not finish") == true)
    }

    @Test func promoteSkipsTheChaosStepAndRemovesItsFault() {
        var test = self
        var harness = canary()
        for _ in 0..<5 { test.window(&harness) }
        harness.feed(.timerFired)
        #expect(harness.command(.promote(full: false)).accepted)
        #expect(harness.machine.currentStep == .pause(nil))
        #expect(faults(harness).last == .some(nil))
    }
}
