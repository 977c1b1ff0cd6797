import NIOCore
import SlipwayProxy
import Testing

@Suite struct MetricsTrafficRecorderTests {
    @Test func snapshotMergesTheShardsOfEveryLoop() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await loops[0].submit {
                recorder.requestStarted(loop: 0)
                recorder.requestStarted(loop: 0)
                recorder.requestStarted(loop: 0)
                recorder.requestFinished(loop: 0, status: 200, proxyGenerated: false, latencyNanoseconds: 1_000_000)
                recorder.requestFinished(loop: 0, status: 502, proxyGenerated: true, latencyNanoseconds: 2_000_000)
            }.get()
            try await loops[1].submit {
                for _ in 0..<5 {
                    recorder.requestStarted(loop: 1)
                }
                recorder.requestFinished(loop: 1, status: 101, proxyGenerated: false, latencyNanoseconds: 3_000_000)
                recorder.requestFinished(loop: 1, status: 302, proxyGenerated: false, latencyNanoseconds: 4_000_000)
                recorder.requestFinished(loop: 1, status: 404, proxyGenerated: false, latencyNanoseconds: 5_000_000)
                recorder.requestFinished(loop: 1, status: 503, proxyGenerated: false, latencyNanoseconds: 6_000_000)
                recorder.requestFinished(loop: 1, status: 504, proxyGenerated: true, latencyNanoseconds: 7_000_000)
            }.get()

            let snapshot = await recorder.snapshot()

            #expect(snapshot.requests == 8)
            #expect(snapshot.inFlight == 1)
            #expect(snapshot.responses == [0, 1, 1, 1, 1, 3])
            // The app's own 503 is a 5xx but not the proxy's.
            #expect(snapshot.proxyGenerated == [502: 1, 504: 1])
            #expect(snapshot.latency.totalCount == 7)
            #expect(snapshot.latency.valueAtPercentile(0) == 1_000)
            #expect(snapshot.latency.maxRecorded == 7_000)
        }
    }

    @Test func inFlightCountsRequestsNotFinishedOnEachLoop() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await loops[0].submit { recorder.requestStarted(loop: 0) }.get()
            try await loops[1].submit {
                recorder.requestStarted(loop: 1)
                recorder.requestStarted(loop: 1)
            }.get()
            #expect(await recorder.snapshot().inFlight == 3)

            try await loops[1].submit {
                recorder.requestFinished(loop: 1, status: 200, proxyGenerated: false, latencyNanoseconds: 1_000)
            }.get()
            let snapshot = await recorder.snapshot()
            #expect(snapshot.requests == 3)
            #expect(snapshot.inFlight == 2)
            #expect(snapshot.responses[2] == 1)
        }
    }

    @Test func snapshotsAreCumulativeAndKeepTheirOwnValues() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 10, latencyNanoseconds: 1_000_000)
            let first = await recorder.snapshot()
            try await recordRequests(recorder, on: loops, loop: 0, count: 5, latencyNanoseconds: 1_000_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 7, status: 500, latencyNanoseconds: 1_000)
            let second = await recorder.snapshot()

            #expect(first.requests == 10)
            #expect(first.latency.totalCount == 10)
            #expect(first.responses == [0, 0, 10, 0, 0, 0])
            #expect(second.requests == 22)
            #expect(second.latency.totalCount == 22)
            #expect(second.responses == [0, 0, 15, 0, 0, 7])
        }
    }

    @Test func latenciesAreKeptInMicrosecondsWithinOneHour() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 1, latencyNanoseconds: 250_000)
            let twoHours: UInt64 = 7_200 * 1_000_000_000
            try await recordRequests(recorder, on: loops, loop: 1, count: 1, latencyNanoseconds: twoHours)
            let latency = await recorder.snapshot().latency

            // Longer than the range still counts, as the longest latency.
            #expect(latency.totalCount == 2)
            #expect(latency.valueAtPercentile(0) == 250)
            let oneHour: UInt64 = 3_600_000_000
            #expect(latency.valuesAreEquivalent(latency.maxRecorded, oneHour))
        }
    }

    @Test func statusesOutsideTheValidRangeCountInTheNearestClass() async throws {
        try await withTwoEventLoops { loops in
            let recorder = TrafficRecorder(loops: loops)
            try await recordRequests(recorder, on: loops, loop: 0, count: 1, status: 42, latencyNanoseconds: 1_000)
            try await recordRequests(recorder, on: loops, loop: 1, count: 2, status: 999, latencyNanoseconds: 1_000)
            let snapshot = await recorder.snapshot()
            #expect(snapshot.responses == [0, 1, 0, 0, 0, 2])
            #expect(snapshot.inFlight == 0)
        }
    }

    @Test func aRecorderWithoutTrafficSnapshotsEmpty() async throws {
        try await withTwoEventLoops { loops in
            let snapshot = await TrafficRecorder(loops: loops).snapshot()
            #expect(snapshot == .empty)
            #expect(snapshot.responses == [0, 0, 0, 0, 0, 0])
            #expect(snapshot.proxyGenerated.isEmpty)
        }
    }
}
