import Foundation
import NIOCore
import Testing

@testable import SlipwayProxy

/// Traffic samples cross the control channel as JSON; what a controller computes from a decoded sample must be what
/// it would have computed in the data plane's own process.
@Suite struct TrafficSampleCodingTests {
    @Test func snapshotSurvivesJSONWithItsCountsAndQuantiles() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordMix(recorder, on: loops)
            // One request still in flight.
            try await loops[1].submit { recorder.requestStarted(loop: 1) }.get()
            let original = await recorder.snapshot()
            let decoded = try roundTrip(original)

            #expect(decoded.requests == original.requests)
            #expect(decoded.requests == 1_163)
            #expect(decoded.inFlight == 1)
            #expect(decoded.responses == original.responses)
            #expect(decoded.responses == [0, 0, 1_100, 0, 40, 22])
            #expect(decoded.proxyGenerated == original.proxyGenerated)
            #expect(decoded.proxyGenerated == [502: 3, 503: 7])
            #expect(decoded.latency.totalCount == original.latency.totalCount)
            #expect(decoded.latency.maxRecorded == original.latency.maxRecorded)
            #expect(decoded.latency.min == original.latency.min)
            for percentile in [50.0, 90, 99, 99.9, 100] {
                #expect(
                    decoded.latency.valueAtPercentile(percentile) == original.latency.valueAtPercentile(percentile),
                    "p\(percentile)"
                )
            }
            // The histograms agree bucket by bucket, so the snapshots are equal as values.
            #expect(decoded == original)

            let whole = decoded.window(since: .empty)
            let p50 = try #require(whole.latency(quantile: 0.5))
            let p99 = try #require(whole.latency(quantile: 0.99))
            let maximum = try #require(whole.latency(quantile: 1))
            #expect(isWithinPrecision(p50, of: .milliseconds(2)))
            #expect(isWithinPrecision(p99, of: .milliseconds(37)))
            #expect(maximum == .microseconds(1_700_123))
        }
    }

    @Test func windowsComputedAfterDecodingEqualThoseBefore() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordMix(recorder, on: loops)
            let before = await recorder.snapshot()
            try await recordRequests(recorder, on: loops, loop: 0, count: 200, latencyNanoseconds: 80_000_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 20, latencyNanoseconds: 900_000_000)
            try await recordRequests(
                recorder,
                on: loops,
                loop: 1,
                count: 5,
                status: 504,
                proxyGenerated: true,
                latencyNanoseconds: 30_000_000_000
            )
            let after = await recorder.snapshot()

            let expected = after.window(since: before)
            let computed = try roundTrip(after).window(since: try roundTrip(before))
            #expect(computed.requests == expected.requests)
            #expect(computed.requests == 225)
            #expect(computed.errors == expected.errors)
            #expect(computed.errors == 5)
            #expect(computed.successRate == expected.successRate)
            #expect(computed.proxyGenerated == expected.proxyGenerated)
            #expect(computed.proxyGenerated == [504: 5])
            #expect(computed.latencyCount == expected.latencyCount)
            for quantile in [0.5, 0.9, 0.99, 1] {
                let decodedValue = try #require(computed.latency(quantile: quantile))
                let originalValue = try #require(expected.latency(quantile: quantile))
                #expect(decodedValue == originalValue, "quantile \(quantile)")
            }
            // Only the window's own latencies: its median is the 80 ms of most of its requests.
            let p50 = try #require(computed.latency(quantile: 0.5))
            #expect(isWithinPrecision(p50, of: .milliseconds(80)))
            #expect(computed.latency(quantile: 1) == .seconds(30))
        }
    }

    @Test func appSampleSurvivesJSONPerVersionInstanceAndUnrouted() async throws {
        try await withTwoEventLoops { loops in
            let stable = TrafficRecorder(loops: loops)
            let canary = TrafficRecorder(loops: loops)
            let unrouted = TrafficRecorder(loops: loops)
            try await recordMix(stable, on: loops)
            try await recordRequests(canary, on: loops, loop: 1, count: 30, latencyNanoseconds: 12_345_000)
            try await recordRequests(
                unrouted,
                on: loops,
                loop: 0,
                count: 4,
                status: 503,
                proxyGenerated: true,
                latencyNanoseconds: 40_000
            )
            let stableTraffic = await stable.snapshot()
            let canaryTraffic = await canary.snapshot()
            let sample = AppTrafficSample(
                app: "shop",
                takenAt: .now,
                versions: ["1.0": stableTraffic, "2.0": canaryTraffic],
                instances: [
                    "shop-1": .init(version: "1.0", traffic: stableTraffic),
                    "shop-2": .init(version: "2.0", traffic: canaryTraffic),
                ],
                unrouted: await unrouted.snapshot()
            )
            let data = try JSONEncoder().encode(sample)
            // Sparse: the non-empty buckets only, not the histogram's full layout of tens of thousands of counts.
            #expect(data.count < 4_096, "\(data.count) bytes")
            let decoded = try JSONDecoder().decode(AppTrafficSample.self, from: data)

            #expect(decoded.app == "shop")
            #expect(decoded.versions == sample.versions)
            #expect(decoded.instances.mapValues(\.version) == ["shop-1": "1.0", "shop-2": "2.0"])
            #expect(decoded.instances["shop-1"]?.traffic == stableTraffic)
            #expect(decoded.instances["shop-2"]?.traffic == canaryTraffic)
            #expect(decoded.unrouted.requests == 4)
            #expect(decoded.unrouted.proxyGenerated == [503: 4])
            #expect(decoded.unrouted.responses(ofClass: 5) == 4)
            let canaryP99 = try #require(decoded.versions["2.0"]?.window(since: .empty).latency(quantile: 0.99))
            #expect(canaryP99 == .microseconds(12_345))
        }
    }

    @Test func retriesAndOutlierStateSurviveJSONAndAreAbsentFromAnOlderDataPlane() throws {
        var snapshot = TrafficSnapshot.empty
        snapshot.retries = 7
        snapshot.retriesRefused = 2
        let event = OutlierEvent(
            timeNs: 42,
            instance: "shop-2",
            version: "1.0.0",
            kind: .ejected,
            detail: "5 failed requests in a row",
            ejectedForMs: 1000
        )
        let sample = AppTrafficSample(
            app: "shop",
            takenAt: .now,
            versions: ["1.0.0": snapshot],
            outliers: OutlierState(ejected: ["shop-2"], ejections: ["shop-2": 1], openCircuits: [], events: [event])
        )
        let decoded = try JSONDecoder().decode(AppTrafficSample.self, from: try JSONEncoder().encode(sample))
        #expect(decoded.versions["1.0.0"]?.retries == 7)
        #expect(decoded.versions["1.0.0"]?.retriesRefused == 2)
        #expect(decoded.outliers == sample.outliers)

        // What a data plane from before retries and outlier detection sends.
        var plain = AppTrafficSample(app: "shop", takenAt: .now, versions: ["1.0.0": .empty])
        let text = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!text.contains("outliers") && !text.contains("retries"))
        plain = try JSONDecoder().decode(AppTrafficSample.self, from: Data(text.utf8))
        #expect(plain.outliers == OutlierState())
        #expect(plain.versions["1.0.0"]?.retries == 0)
    }

    @Test func mirrorTrafficSurvivesJSONAndIsAbsentWhenNothingWasMirrored() throws {
        var shadow = TrafficSnapshot.empty
        shadow.requests = 5
        shadow.responses = [0, 0, 3, 0, 0, 2]
        let sample = AppTrafficSample(
            app: "shop",
            takenAt: .now,
            mirror: MirrorTraffic(shadows: ["2.0.0": shadow], originals: ["1.0.0": .empty], dropped: 1)
        )
        let decoded = try JSONDecoder().decode(AppTrafficSample.self, from: try JSONEncoder().encode(sample))
        #expect(decoded.mirror.shadows == ["2.0.0": shadow])
        #expect(decoded.mirror.originals == ["1.0.0": .empty])
        #expect(decoded.mirror.dropped == 1)
        let plain = AppTrafficSample(app: "shop", takenAt: .now)
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("mirror"))
    }

    @Test func emptyAndSubMicrosecondSnapshotsSurviveJSON() async throws {
        let empty = try roundTrip(TrafficSnapshot.empty)
        #expect(empty == .empty)
        #expect(empty.latency.totalCount == 0)
        #expect(empty.window(since: .empty).latency(quantile: 0.5) == nil)

        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            // Faster than the histogram's 1 µs resolution: recorded as 0.
            try await recordRequests(recorder, on: loops, loop: 0, count: 3, latencyNanoseconds: 400)
            try await recordRequests(recorder, on: loops, loop: 1, count: 2, latencyNanoseconds: 7_000)
            let original = await recorder.snapshot()
            let decoded = try roundTrip(original)
            #expect(decoded == original)
            #expect(decoded.latency.totalCount == 5)
            #expect(decoded.latency.min == 0)
            #expect(decoded.latency.maxRecorded == 7)
            #expect(decoded.window(since: .empty).latency(quantile: 0.5) == .zero)
        }
    }

    /// 1,100 successes from 2 ms to 1.7 s, 40 404s and 22 5xx of which 10 made by the proxy, on both loops: the 99th
    /// percentile of the 1,162 falls among the 37 ms ones.
    private func recordMix(_ recorder: TrafficRecorder, on loops: [any EventLoop]) async throws {
        try await recordRequests(recorder, on: loops, loop: 0, count: 600, latencyNanoseconds: 2_000_000)
        try await recordRequests(recorder, on: loops, loop: 1, count: 400, latencyNanoseconds: 2_003_000)
        try await recordRequests(recorder, on: loops, loop: 0, count: 89, latencyNanoseconds: 37_000_000)
        try await recordRequests(recorder, on: loops, loop: 1, count: 10, latencyNanoseconds: 250_000_000)
        try await recordRequests(recorder, on: loops, loop: 0, count: 1, latencyNanoseconds: 1_700_123_456)
        try await recordRequests(recorder, on: loops, loop: 1, count: 40, status: 404, latencyNanoseconds: 900_000)
        try await recordRequests(recorder, on: loops, loop: 0, count: 12, status: 500, latencyNanoseconds: 5_000_000)
        try await recordRequests(
            recorder,
            on: loops,
            loop: 1,
            count: 3,
            status: 502,
            proxyGenerated: true,
            latencyNanoseconds: 1_000_000
        )
        try await recordRequests(
            recorder,
            on: loops,
            loop: 0,
            count: 7,
            status: 503,
            proxyGenerated: true,
            latencyNanoseconds: 60_000
        )
    }

    private func roundTrip(_ snapshot: TrafficSnapshot) throws -> TrafficSnapshot {
        try JSONDecoder().decode(TrafficSnapshot.self, from: try JSONEncoder().encode(snapshot))
    }

    /// Whether `measured` is `target` to the histogram's three significant digits.
    private func isWithinPrecision(_ measured: Duration, of target: Duration) -> Bool {
        let difference = measured > target ? measured - target : target - measured
        return difference <= target / 1_000
    }
}
