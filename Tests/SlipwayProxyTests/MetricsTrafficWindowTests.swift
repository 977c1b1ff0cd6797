import NIOCore
import SlipwayProxy
import Testing

@Suite struct MetricsTrafficWindowTests {
    @Test func windowQuantilesSeeOnlyTheWindowsLatencies() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 500, latencyNanoseconds: 1_000_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 500, latencyNanoseconds: 1_000_000)
            let before = await recorder.snapshot()
            try await recordRequests(recorder, on: loops, loop: 0, count: 50, latencyNanoseconds: 100_000_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 50, latencyNanoseconds: 100_000_000)
            let after = await recorder.snapshot()

            let window = after.window(since: before)
            #expect(window.requests == 100)
            #expect(window.latencyCount == 100)
            #expect(window.errors == 0)
            #expect(window.successRate == 1)
            let p50 = try #require(window.latency(quantile: 0.5))
            let p99 = try #require(window.latency(quantile: 0.99))
            #expect(isNear(p50, .milliseconds(100), within: .milliseconds(1)))
            #expect(isNear(p99, .milliseconds(100), within: .milliseconds(1)))

            // Over everything, the 1 ms requests dominate the median.
            let whole = after.window(since: .empty)
            #expect(whole.latencyCount == 1_100)
            let wholeP50 = try #require(whole.latency(quantile: 0.5))
            #expect(isNear(wholeP50, .milliseconds(1), within: .microseconds(10)))
        }
    }

    @Test func windowQuantilesFollowTheWindowsDistribution() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 1_000, latencyNanoseconds: 900_000_000)
            let before = await recorder.snapshot()
            try await recordRequests(recorder, on: loops, loop: 0, count: 90, latencyNanoseconds: 2_000_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 10, latencyNanoseconds: 40_000_000)
            let window = await recorder.snapshot().window(since: before)

            let p50 = try #require(window.latency(quantile: 0.5))
            let p95 = try #require(window.latency(quantile: 0.95))
            let p100 = try #require(window.latency(quantile: 1))
            #expect(isNear(p50, .milliseconds(2), within: .microseconds(20)))
            #expect(isNear(p95, .milliseconds(40), within: .microseconds(400)))
            #expect(isNear(p100, .milliseconds(40), within: .microseconds(400)))
        }
    }

    @Test func windowCountsErrorsAndProxyResponsesOfTheWindowOnly() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 20, status: 500, latencyNanoseconds: 1_000)
            try await recordRequests(
                recorder,
                on: loops,
                loop: 1,
                count: 5,
                status: 502,
                proxyGenerated: true,
                latencyNanoseconds: 1_000
            )
            let before = await recorder.snapshot()
            try await recordRequests(recorder, on: loops, loop: 0, count: 4, status: 200, latencyNanoseconds: 1_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 2, status: 404, latencyNanoseconds: 1_000)
            try await recordRequests(recorder, on: loops, loop: 0, count: 1, status: 503, latencyNanoseconds: 1_000)
            try await recordRequests(
                recorder,
                on: loops,
                loop: 1,
                count: 3,
                status: 504,
                proxyGenerated: true,
                latencyNanoseconds: 1_000
            )
            // Started in the window, not finished: not a response yet.
            try await loops[0].submit { recorder.requestStarted(loop: 0) }.get()
            let window = await recorder.snapshot().window(since: before)

            #expect(window.requests == 10)
            #expect(window.errors == 4)
            #expect(window.successRate == 0.6)
            #expect(window.proxyGenerated == [504: 3])
            #expect(window.latencyCount == 10)
        }
    }

    @Test func emptyWindowHasNoRateAndNoQuantiles() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 3, latencyNanoseconds: 5_000_000)
            let first = await recorder.snapshot()
            let second = await recorder.snapshot()

            for window in [second.window(since: first), TrafficSnapshot.empty.window(since: .empty)] {
                #expect(window.requests == 0)
                #expect(window.errors == 0)
                #expect(window.successRate == nil)
                #expect(window.proxyGenerated.isEmpty)
                #expect(window.latencyCount == 0)
                #expect(window.latency(quantile: 0.5) == nil)
                #expect(window.latency(quantile: 0.99) == nil)
            }
            #expect(second.window(since: first) == TrafficSnapshot.empty.window(since: .empty))
        }
    }

    @Test func aReplacedRecorderMakesTheWholeLaterSnapshotTheWindow() async throws {
        try await withTwoEventLoops { loops in
            let old = TrafficRecorder(loops: loops)
            try await recordRequests(old, on: loops, loop: 0, count: 50, latencyNanoseconds: 1_000_000)
            let earlier = await old.snapshot()

            let replacement = TrafficRecorder(loops: loops)
            try await recordRequests(replacement, on: loops, loop: 1, count: 8, status: 500, latencyNanoseconds: 3_000)
            let later = await replacement.snapshot()

            let window = later.window(since: earlier)
            #expect(window.requests == 8)
            #expect(window.errors == 8)
            #expect(window.successRate == 0)
            #expect(window.latencyCount == 8)
            #expect(window.latency(quantile: 0.5) == .microseconds(3))
        }
    }

    @Test func windowOfHandMadeSnapshots() {
        var earlier = TrafficSnapshot.empty
        earlier.requests = 2
        earlier.responses[2] = 2
        earlier.latency.record(1_000, count: 2)
        var later = earlier
        later.requests = 6
        later.inFlight = 1
        later.responses[5] = 3
        later.proxyGenerated = [503: 1]
        later.latency.record(1_000)
        later.latency.record(10_000, count: 2)

        let window = later.window(since: earlier)
        #expect(window.requests == 3)
        #expect(window.errors == 3)
        #expect(window.successRate == 0)
        #expect(window.proxyGenerated == [503: 1])
        #expect(window.latencyCount == 3)
        #expect(window.latency(quantile: 0) == .milliseconds(1))
        #expect(window.latency(quantile: 0.5) == .milliseconds(10))
    }

    private func isNear(_ duration: Duration, _ target: Duration, within tolerance: Duration) -> Bool {
        duration >= target - tolerance && duration <= target + tolerance
    }
}
