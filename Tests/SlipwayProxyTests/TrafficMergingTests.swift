import SlipwayCore
import Testing

@testable import SlipwayProxy

/// One app's traffic on several data planes (one per host), read as one.
@Suite("Traffic of several data planes")
struct TrafficMergingTests {
    private static func snapshot(requests: Int, errors: Int, latenciesMs: [UInt64]) -> TrafficSnapshot {
        var latency = LatencyHistogram.make()
        for value in latenciesMs { latency.record(value * 1_000) }
        var responses = [Int](repeating: 0, count: 6)
        responses[2] = requests - errors
        responses[5] = errors
        return TrafficSnapshot(
            requests: requests,
            inFlight: 0,
            responses: responses,
            proxyGenerated: errors > 0 ? [502: errors] : [:],
            latency: latency,
            units: ComparisonUnits()
        )
    }

    @Test func countsHistogramsOutliersAndWaitingRoomsAddUp() throws {
        let clock = ContinuousClock()
        let first = AppTrafficSample(
            app: "shop",
            takenAt: clock.now,
            versions: ["1.0": Self.snapshot(requests: 100, errors: 1, latenciesMs: [10, 20])],
            instances: [
                "shop-1": .init(version: "1.0", traffic: Self.snapshot(requests: 100, errors: 1, latenciesMs: [10]))
            ],
            outliers: OutlierState(ejected: ["shop-1"], ejections: ["shop-1": 1]),
            waitingRoom: WaitingRoomState(waiting: 2, limit: 10, longestWaitSeconds: 1.5)
        )
        let second = AppTrafficSample(
            app: "shop",
            takenAt: clock.now.advanced(by: .milliseconds(5)),
            versions: [
                "1.0": Self.snapshot(requests: 50, errors: 0, latenciesMs: [900]),
                "2.0": Self.snapshot(requests: 7, errors: 7, latenciesMs: [30]),
            ],
            instances: [
                "shop-2": .init(version: "2.0", traffic: Self.snapshot(requests: 7, errors: 7, latenciesMs: [30]))
            ],
            outliers: OutlierState(ejected: ["shop-2"], ejections: ["shop-1": 2]),
            waitingRoom: WaitingRoomState(waiting: 3, limit: 10, longestWaitSeconds: 0.5)
        )
        let merged = try #require(AppTrafficSample.merging([first, second]))
        #expect(merged.takenAt == second.takenAt)
        #expect(merged.versions["1.0"]?.requests == 150)
        #expect(merged.versions["1.0"]?.responses(ofClass: 5) == 1)
        #expect(merged.versions["1.0"]?.latency.totalCount == 3)
        #expect(merged.versions["1.0"]?.latency.maxRecorded ?? 0 >= 900_000)
        #expect(merged.versions["2.0"]?.proxyGenerated == [502: 7])
        #expect(Set(merged.instances.keys) == ["shop-1", "shop-2"])
        #expect(merged.outliers.ejected == ["shop-1", "shop-2"])
        #expect(merged.outliers.ejections == ["shop-1": 3])
        #expect(merged.waitingRoom == WaitingRoomState(waiting: 5, limit: 20, longestWaitSeconds: 1.5))
        #expect(AppTrafficSample.merging([]) == nil)
        #expect(AppTrafficSample.merging([first])?.versions["1.0"]?.requests == 100)
    }
}
