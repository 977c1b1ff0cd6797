import AnalysisSimulation
import Foundation
import Testing

@testable import SlipwayEngine

/// The chaos step's judgement: each version under the fault against itself before it, the candidate's rise against
/// the baseline's.
@Suite(.serialized) struct ResilienceComparisonTests {
    /// A window of `requests` with `errors` 5xx: latencies 1–5 ms, but `slow` of them at `slowAt`.
    static func window(_ requests: Int, errors: Int = 0, slow: Int = 0, slowAt: Duration = .zero) -> VersionWindow {
        var buckets: [(micros: UInt64, count: Int)] = (1...5).map { (UInt64($0 * 1_000), (requests - slow) / 5) }
        let slowMicros =
            UInt64(slowAt.components.seconds) * 1_000_000
            + UInt64(slowAt.components.attoseconds / 1_000_000_000_000)
        if slow > 0 { buckets.append((slowMicros, slow)) }
        let counts = LatencyCounts(buckets)
        return VersionWindow(requests: counts.total, errors: errors, latencyCounts: counts)
    }

    static func comparison() -> ResilienceComparison {
        ResilienceComparison(alpha: 0.05, errorTolerance: 0.01, latencyTolerance: .milliseconds(25))
    }

    static func watch(_ comparison: inout ResilienceComparison, windows: Int = 5) {
        for _ in 0..<windows {
            comparison.observe(candidate: window(100, errors: 0), baseline: window(100, errors: 0), underFault: false)
        }
    }

    @Test func bothVersionsDegradingAlikeIsNoHarm() {
        var comparison = Self.comparison()
        Self.watch(&comparison)
        for _ in 0..<20 {
            comparison.observe(
                candidate: Self.window(100, errors: 5, slow: 50, slowAt: .milliseconds(100)),
                baseline: Self.window(100, errors: 5, slow: 50, slowAt: .milliseconds(100)),
                underFault: true
            )
        }
        #expect(!comparison.harmful)
        #expect(comparison.enoughBefore && comparison.enoughDuring)
        #expect(comparison.findings.isEmpty)
        // The fault raised both alike: the estimated excess is nil at every measure.
        #expect(comparison.rises.allSatisfy { abs($0.excess) < 1e-9 }, "\(comparison.rises)")
    }

    @Test func aCandidateWaitingOutASlowDependencyIsFound() {
        var comparison = Self.comparison()
        Self.watch(&comparison)
        var windows = 0
        while !comparison.harmful, windows < 20 {
            comparison.observe(
                candidate: Self.window(100, slow: 50, slowAt: .milliseconds(300)),
                baseline: Self.window(100, slow: 50, slowAt: .milliseconds(100)),
                underFault: true
            )
            windows += 1
        }
        #expect(comparison.harmful)
        #expect(windows <= 5, "found after \(windows) windows")
        let finding = comparison.findings.first ?? ""
        #expect(finding.contains("went from 4.0 ms to 300.0 ms"), "\(finding)")
        #expect(finding.contains("the baseline's from 4.0 ms to 100.0 ms"), "\(finding)")
        #expect(comparison.harm.allSatisfy { $0.measure.hasPrefix("p") })
    }

    @Test func aCandidateFailingWhereTheBaselineRetriesIsFound() {
        var comparison = Self.comparison()
        Self.watch(&comparison)
        var windows = 0
        while !comparison.harmful, windows < 20 {
            comparison.observe(
                candidate: Self.window(100, errors: 10),
                baseline: Self.window(100, errors: 0),
                underFault: true
            )
            windows += 1
        }
        #expect(comparison.harm.map(\.measure) == ["errors"])
        #expect(windows <= 6, "found after \(windows) windows")
        #expect(comparison.findings.first?.contains("error rate went from 0.00% to 10.00%") == true)
    }

    @Test func aCandidateAlreadyWorseBeforeTheFaultIsNotChargedForItAgain() {
        // 2% errors on the candidate before and under the fault, none on the baseline: not a loss of resilience.
        var comparison = Self.comparison()
        for _ in 0..<10 {
            comparison.observe(candidate: Self.window(200, errors: 4), baseline: Self.window(200), underFault: false)
        }
        for _ in 0..<10 {
            comparison.observe(candidate: Self.window(200, errors: 4), baseline: Self.window(200), underFault: true)
        }
        #expect(!comparison.harmful)
    }

    @Test func fewRequestsAreNotEnough() {
        var comparison = Self.comparison()
        comparison.observe(candidate: Self.window(60), baseline: Self.window(60), underFault: false)
        comparison.observe(candidate: Self.window(60), baseline: Self.window(60), underFault: true)
        #expect(!comparison.enoughBefore)
        #expect(!comparison.enoughDuring)
        #expect(comparison.rises.map(\.measure) == ["errors"])
    }

    @Test func theRateIntervalCoversItsEstimateAndShrinks() {
        let none = RateConfidence.interval(events: 0, trials: 1_000, level: 0.05 / 8)
        #expect(none.lower == 0)
        #expect(none.upper > 0.005 && none.upper < 0.012, "\(none)")
        let half = RateConfidence.interval(events: 500, trials: 1_000, level: 0.05 / 8)
        #expect(half.lower < 0.5 && half.upper > 0.5)
        #expect(half.upper - half.lower < 0.16, "\(half)")
        let more = RateConfidence.interval(events: 5_000, trials: 10_000, level: 0.05 / 8)
        #expect(more.upper - more.lower < (half.upper - half.lower) / 2.5)
        let all = RateConfidence.interval(events: 10, trials: 10, level: 0.05)
        #expect(all.upper == 1 && all.lower > 0.5)
    }

    /// Equal resilience, random traffic looked at after every window: the false alarms stay under the level.
    @Test func equalResilienceRarelyAlarms() async {
        var generator = SeededGenerator(seed: 7)
        var alarms = 0
        let runs = 60
        for _ in 0..<runs {
            var comparison = Self.comparison()
            for phase in [false, true] {
                for _ in 0..<6 {
                    func random() -> VersionWindow {
                        let errors = (0..<150).filter { _ in
                            Double.random(in: 0..<1, using: &generator) < (phase ? 0.05 : 0.01)
                        }.count
                        let slow = (0..<150).filter { _ in
                            Double.random(in: 0..<1, using: &generator) < (phase ? 0.5 : 0.02)
                        }.count
                        return Self.window(150, errors: errors, slow: slow, slowAt: .milliseconds(120))
                    }
                    comparison.observe(candidate: random(), baseline: random(), underFault: phase)
                }
            }
            if comparison.harmful { alarms += 1 }
            await Task.yield()
        }
        #expect(alarms <= 3, "\(alarms) false alarms in \(runs) runs")
    }
}
