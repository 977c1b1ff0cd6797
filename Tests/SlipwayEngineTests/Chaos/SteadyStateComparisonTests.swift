import Foundation
import Testing

@testable import SlipwayEngine

/// The steady-state probe's judgement: the method's period against the steady state before it.
@Suite struct SteadyStateComparisonTests {
    /// `requests` with latencies spread evenly over 1–5 ms (plus `slow` at 300 ms), `errors` of them 5xx.
    static func period(requests: Int, errors: Int, slow: Int = 0) -> SteadyStateComparison.Period {
        var buckets: [(micros: UInt64, count: Int)] = (1...5).map { (UInt64($0 * 1_000), (requests - slow) / 5) }
        if slow > 0 { buckets.append((300_000, slow)) }
        return SteadyStateComparison.Period(requests: requests, errors: errors, latency: LatencyCounts(buckets))
    }

    @Test func theSameTrafficHolds() {
        let comparison = SteadyStateComparison(
            before: Self.period(requests: 1_500, errors: 3),
            during: Self.period(requests: 1_000, errors: 2)
        )
        #expect(comparison.held)
        #expect(comparison.findings.isEmpty)
    }

    @Test func moreErrorsDoNotHoldAndSaySo() {
        let comparison = SteadyStateComparison(
            before: Self.period(requests: 1_500, errors: 3),
            during: Self.period(requests: 1_000, errors: 60)
        )
        #expect(!comparison.held)
        #expect(comparison.findings.first?.hasPrefix("5xx rose from 0.20% to 6.00%") == true, "\(comparison.findings)")
    }

    @Test func aSlowTailDoesNotHold() {
        let comparison = SteadyStateComparison(
            before: Self.period(requests: 1_500, errors: 0),
            during: Self.period(requests: 1_000, errors: 0, slow: 100)
        )
        #expect(!comparison.held)
        #expect(comparison.findings.contains { $0.contains("slower than") || $0.contains("latency shifted") })
    }

    @Test func shiftsAmongFastRequestsAreNotJudged() {
        // Every request between 1 and 5 ms before; between 3 and 7 ms during: a real shift, but below the 10 ms floor.
        let during = SteadyStateComparison.Period(
            requests: 1_000,
            errors: 0,
            latency: LatencyCounts((3...7).map { (UInt64($0 * 1_000), 200) })
        )
        let comparison = SteadyStateComparison(before: Self.period(requests: 1_500, errors: 0), during: during)
        #expect(comparison.held, "\(comparison.findings)")
        #expect(comparison.slowLimit == .milliseconds(10))
        #expect(!SteadyStateComparison(before: comparison.before, during: during, latencyFloor: .milliseconds(1)).held)
    }

    @Test func tooFewRequestsJudgeNothing() {
        let comparison = SteadyStateComparison(
            before: Self.period(requests: 10, errors: 0),
            during: Self.period(requests: 10, errors: 1)
        )
        #expect(comparison.held)
    }
}
