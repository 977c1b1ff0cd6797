import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayServer

/// The order of warm-up requests, and the report made of their outcomes; time is a value.
struct WarmUpPlanTests {
    private let start = ContinuousClock.now

    private func drain(_ plan: inout WarmUpPlan, at now: ContinuousClock.Instant) -> [String] {
        var targets: [String] = []
        while let request = plan.next(now: now) { targets.append(request.target) }
        return targets
    }

    @Test func syntheticRoundRobinThenOriginFormReplay() {
        var plan = WarmUpPlan(
            spec: WarmUpSpec(paths: ["/a", "/b", "/c"], count: 4, replay: 2),
            replay: ["http://elsewhere/x", "/r1", "/r2", "/r3"],
            start: start
        )
        #expect(drain(&plan, at: start) == ["/a", "/b", "/c", "/a", "/r1", "/r2"])
        #expect(!plan.cutShort)
    }

    @Test func byDurationUntilItEnds() {
        var plan = WarmUpPlan(
            spec: WarmUpSpec(paths: ["/a"], count: 1, duration: .seconds(1), replay: 1),
            replay: ["/r"],
            start: start
        )
        #expect(plan.next(now: start)?.target == "/a")
        #expect(plan.next(now: start + .milliseconds(999))?.target == "/a")
        let replayed = plan.next(now: start + .seconds(1))
        #expect(replayed == WarmUpPlan.Request(index: 2, source: .replay, target: "/r"))
        #expect(plan.next(now: start + .seconds(1)) == nil)
        #expect(!plan.cutShort)
    }

    @Test func nothingAfterTheTimeout() {
        var plan = WarmUpPlan(
            spec: WarmUpSpec(paths: ["/a"], count: 3, timeout: .seconds(2)),
            replay: [],
            start: start
        )
        #expect(plan.next(now: start + .seconds(1)) != nil)
        #expect(plan.next(now: start + .seconds(2)) == nil)
        #expect(plan.cutShort)

        var finished = WarmUpPlan(
            spec: WarmUpSpec(paths: ["/a"], count: 1, timeout: .seconds(2)),
            replay: [],
            start: start
        )
        #expect(finished.next(now: start) != nil)
        #expect(finished.next(now: start + .seconds(3)) == nil)
        #expect(!finished.cutShort)
    }

    @Test func noPathsOrNoCountSendsNoSyntheticRequest() {
        var noPaths = WarmUpPlan(spec: WarmUpSpec(count: 5), replay: [], start: start)
        #expect(noPaths.next(now: start) == nil)
        var noCount = WarmUpPlan(spec: WarmUpSpec(paths: ["/"], replay: 1), replay: ["/r"], start: start)
        #expect(drain(&noCount, at: start) == ["/r"])
    }

    @Test func reportCountsAndQuantiles() {
        func request(_ index: Int, _ source: WarmUpPlan.Source = .synthetic) -> WarmUpPlan.Request {
            WarmUpPlan.Request(index: index, source: source, target: "/")
        }
        var outcomes: [(request: WarmUpPlan.Request, outcome: WarmUpReport.Outcome)] = (0..<20).map {
            (request($0), .answered(status: 200, latency: .milliseconds($0 < 2 ? 300 : 10)))
        }
        outcomes.append((request(20, .replay), .answered(status: 503, latency: .milliseconds(1))))
        outcomes.append((request(21, .replay), .failed))
        outcomes.append((request(22, .replay), .abandoned))
        let report = WarmUpReport(outcomes: outcomes.reversed(), took: .milliseconds(1234), cutShort: false)
        #expect(report.synthetic == 20)
        #expect(report.replayed == 2)
        #expect(report.failures == 2)
        #expect(report.abandoned == 1)
        #expect(report.timedOut)
        #expect(report.responsesByClass == [2: 20, 5: 1])
        #expect(report.latencyP50 == .milliseconds(10))
        #expect(report.latencyP99 == .milliseconds(300))
        #expect(report.latencyMax == .milliseconds(300))
        #expect(report.earlyMeanLatency == .milliseconds(300))
        #expect(report.lateMeanLatency == .milliseconds(5) + .microseconds(500))
        #expect(
            report.fields == [
                "synthetic": .int(20), "replayed": .int(2), "failures": .int(2), "abandoned": .int(1),
                "timedOut": .bool(true), "tookMs": .int(1234), "responses2xx": .int(20), "responses5xx": .int(1),
                "p50Ms": .int(10), "p99Ms": .int(300), "maxMs": .int(300), "earlyMeanMs": .int(300),
                "lateMeanMs": .int(5),
            ]
        )
    }
}
