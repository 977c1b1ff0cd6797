import Foundation
import SlipwayCore
import Testing

@testable import SlipwayStore

/// A rollout's evidence beside the event log: bounded, without duplicates, kept for the newest rollouts.
@Suite struct RolloutEvidenceStoreTests {
    static func failure(_ time: Int64, _ instance: String = "shop-3") -> FailedRequest {
        FailedRequest(
            timeNs: time,
            version: "2.0.0",
            instance: instance,
            method: "POST",
            path: "/orders",
            status: 501,
            latencyMs: 2.5,
            requestID: "r\(time)"
        )
    }

    @Test func pointsAndFailuresRoundTripAndFailuresAreCappedAndNotRepeated() throws {
        let log = EventLog()
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        let point = RolloutTrafficPoint(time: time, version: "2.0.0", seconds: 2, requests: 40, errors: 4, p99Ms: nil)
        try log.addEvidence(
            app: "shop",
            rollout: 3,
            points: [point],
            failures: [Self.failure(1), Self.failure(2)],
            failureCap: 3
        )
        // The same failure read twice (a restarted reader) is kept once; the cap then stops the rest.
        try log.addEvidence(
            app: "shop",
            rollout: 3,
            points: [],
            failures: (2...6).map { Self.failure($0) },
            failureCap: 3
        )
        #expect(try log.trafficPoints(app: "shop", rollout: 3) == [point])
        let recorded = try log.failedRequests(app: "shop", rollout: 3, limit: 10)
        #expect(recorded.kept == 3)
        #expect(recorded.newest.map(\.timeNs) == [3, 2, 1])
        #expect(recorded.newest.first == Self.failure(3))
        #expect(try log.newestFailureTime(app: "shop", rollout: 3) == 3)
        #expect(try log.newestFailureTime(app: "shop", rollout: 4) == 0)
        #expect(try log.failedRequests(app: "shop", rollout: 3, limit: 1).newest.count == 1)
    }

    @Test func pruningKeepsTheNewestRolloutsOfThatAppOnly() throws {
        let log = EventLog()
        let time = Date(timeIntervalSince1970: 1_800_000_000)
        for rollout in 1...5 {
            for app in ["shop", "cart"] {
                try log.addEvidence(
                    app: app,
                    rollout: rollout,
                    points: [
                        RolloutTrafficPoint(time: time, version: "1", seconds: 1, requests: 1, errors: 0, p99Ms: 1)
                    ],
                    failures: [Self.failure(Int64(rollout))],
                    failureCap: 10
                )
            }
        }
        try log.pruneEvidence(app: "shop", keepingNewest: 2)
        #expect(try (1...5).map { try log.trafficPoints(app: "shop", rollout: $0).count } == [0, 0, 0, 1, 1])
        #expect(try (1...5).map { try log.failedRequests(app: "shop", rollout: $0, limit: 5).kept } == [0, 0, 0, 1, 1])
        #expect(try (1...5).map { try log.trafficPoints(app: "cart", rollout: $0).count } == [1, 1, 1, 1, 1])
    }
}
