import Foundation
import NIOCore
import NIOPosix
import SlipwayProxy
import SlipwayServer
import SlipwayTestSupport
import Testing

/// The per-second traffic history behind `GET /api/v1/apps/{app}/metrics`.
@Suite struct MetricsHistoryTests {
    @Test func ratesAreRequestsPerSecondErrorShareAndP99InMilliseconds() {
        let rates = VersionRates(requests: 300, errors: 3, p99: .microseconds(4_100), seconds: 1.5)
        #expect(rates.rps == 200)
        #expect(rates.errorRate == 0.01)
        #expect(abs((rates.p99Ms ?? 0) - 4.1) < 1e-9)
    }

    @Test func anIdleIntervalHasNoErrorsAndNoLatency() {
        #expect(
            VersionRates(requests: 0, errors: 0, p99: nil, seconds: 1)
                == VersionRates(requests: 0, errors: 0, p99: nil, seconds: 0)
        )
        let idle = VersionRates(requests: 0, errors: 0, p99: nil, seconds: 1)
        #expect(idle.rps == 0 && idle.errorRate == 0 && idle.p99Ms == nil)
    }

    @Test func aWaitingRoomsPointIsItsLineAndWhatHappenedSinceTheLastSample() throws {
        let start = ContinuousClock.now
        let earlier = AppTrafficSample(
            app: "shop",
            takenAt: start,
            waitingRoom: WaitingRoomState(admittedAfterWaiting: 10, refusedFull: 4, timedOut: 1, waitedSeconds: 2)
        )
        let later = AppTrafficSample(
            app: "shop",
            takenAt: start + .seconds(2),
            waitingRoom: WaitingRoomState(
                waiting: 6,
                limit: 8,
                admittedAfterWaiting: 30,
                refusedFull: 10,
                timedOut: 3,
                waitedSeconds: 7
            )
        )
        let point = try #require(MetricsPoint.between(earlier, later, at: Date()))
        let room = try #require(point.waitingRoom)
        #expect(room.waiting == 6 && room.limit == 8)
        #expect(room.admittedPerSecond == 10)
        #expect(room.refusedPerSecond == 4)
        #expect(room.meanWaitMs == 250)
        let none = try #require(
            MetricsPoint.between(
                AppTrafficSample(app: "cart", takenAt: start),
                AppTrafficSample(app: "cart", takenAt: start + .seconds(1)),
                at: Date()
            )
        )
        #expect(none.waitingRoom == nil)
    }

    /// Records `count` requests on `recorder`'s only loop: the first `errors` answered 503, the last one slow.
    private func record(_ recorder: TrafficRecorder, on loop: any EventLoop, count: Int, errors: Int) async throws {
        try await loop.submit {
            for index in 0..<count {
                recorder.requestStarted(loop: 0)
                recorder.requestFinished(
                    loop: 0,
                    status: index < errors ? 503 : 200,
                    proxyGenerated: false,
                    latencyNanoseconds: index == count - 1 ? 50_000_000 : 2_000_000
                )
            }
        }.get()
    }

    @Test func aPointIsTheWindowBetweenTwoSamples() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let recorder = TrafficRecorder(loops: [loop])
        try await record(recorder, on: loop, count: 40, errors: 0)
        let before = await recorder.snapshot()
        try await record(recorder, on: loop, count: 100, errors: 5)
        let after = await recorder.snapshot()
        try await group.shutdownGracefully()

        let start = ContinuousClock.now
        let time = Date(timeIntervalSince1970: 1_735_689_600)
        let earlier = AppTrafficSample(app: "shop", takenAt: start, versions: ["1.0.0": before])
        let later = AppTrafficSample(
            app: "shop",
            takenAt: start + .seconds(2),
            versions: ["1.0.0": after, "2.0.0": after]
        )
        let point = try #require(MetricsPoint.between(earlier, later, at: time))
        #expect(point.t == time)
        let stable = try #require(point.versions["1.0.0"])
        #expect(stable.rps == 50)
        #expect(stable.errorRate == 0.05)
        #expect(abs((stable.p99Ms ?? 0) - 2) < 0.01)
        // A version new since the earlier sample counts everything it holds.
        #expect(point.versions["2.0.0"]?.rps == 70)
        #expect(MetricsPoint.between(later, earlier, at: time) == nil)
        #expect(MetricsPoint.between(later, later, at: time) == nil)
    }

    @Test func keepsTheNewestPointsPerAppAndStartsFromTheFirstSample() async {
        let history = MetricsHistory(capacity: 3, sample: { [] })
        let start = ContinuousClock.now
        for second in 0..<6 {
            let samples = ["shop", "cart"].map { AppTrafficSample(app: $0, takenAt: start + .seconds(second)) }
            await history.record(samples, at: Date(timeIntervalSince1970: Double(second)))
        }
        #expect(await history.series(app: "shop", seconds: 600).points.map(\.t.timeIntervalSince1970) == [3, 4, 5])
        #expect(await history.series(app: "cart", seconds: 2).points.map(\.t.timeIntervalSince1970) == [4, 5])
        #expect(await history.series(app: "none", seconds: 600).points.isEmpty)
        #expect(await history.series(app: "shop", seconds: 600).intervalSeconds == 1)
    }

    @Test func runSamplesEveryIntervalUntilCancelled() async throws {
        let start = ContinuousClock.now
        let history = MetricsHistory(interval: .milliseconds(10)) {
            [AppTrafficSample(app: "shop", takenAt: ContinuousClock.now, versions: ["1.0.0": .empty])]
        }
        let running = Task { try await history.run() }
        // Bounded generously: on a loaded two-core machine other suites may hold the cooperative threads a while.
        try await waitUntil("three points", timeout: .seconds(30)) {
            await history.series(app: "shop", seconds: 600).points.count >= 3
        }
        running.cancel()
        try await running.value
        let count = await history.series(app: "shop", seconds: 600).points.count
        try await Task.sleep(for: .milliseconds(50))
        #expect(await history.series(app: "shop", seconds: 600).points.count == count)
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}
