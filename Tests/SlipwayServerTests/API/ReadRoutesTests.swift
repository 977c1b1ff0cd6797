import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayProxy
import SlipwayServer
import SlipwayStore
import Testing

/// The JSON read endpoints over a real event log.
@Suite struct ReadRoutesTests {
    private static let live = RolloutSummary(
        rollout: 2,
        app: "shop",
        from: "1.0.0",
        to: "2.1.0",
        strategy: "canary",
        state: "promoted",
        step: 2,
        steps: 2,
        stepDescription: "",
        weights: ["2.1.0": 100],
        reason: nil
    )

    @Test func appsListsEveryConfiguredAppFoldedFromItsEvents() async throws {
        let cart = ConfiguredApp(name: "cart", listen: "127.0.0.1:8081", instances: 1, version: "0.9.0")
        let reading = try FixedReading(apps: [FixedReading.shop, cart], rollouts: ["shop": Self.live])
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let views = try decodeAPI([AppView].self, response)
                #expect(views.map(\.name) == ["shop", "cart"])
                let shop = try #require(views.first)
                #expect(shop.listen == "127.0.0.1:8080")
                #expect(shop.stable == "2.1.0")
                #expect(shop.desiredInstances == 2)
                #expect(shop.instances.map(\.id) == ["shop-1"])
                #expect(shop.instances.first?.state == "healthy")
                #expect(shop.instances.first?.pid == 4242 && shop.instances.first?.port == 9001)
                #expect(shop.weights == ["2.1.0": 100])
                #expect(shop.rollout == Self.live)
                #expect(shop.lastDecision == "promoted 2.1.0")
                // An app with no events yet: its configured release takes all traffic.
                let quiet = try #require(views.last)
                #expect(quiet.stable == "0.9.0" && quiet.desiredInstances == 1 && quiet.instances.isEmpty)
                #expect(quiet.weights == ["0.9.0": 100])
            }
        }
    }

    @Test func appWritesNullForWhatItDoesNotHave() async throws {
        let reading = try FixedReading()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop", method: .get) { response in
                #expect(response.status == .ok)
                let object = try #require(try jsonObject(response) as? [String: Any])
                #expect(object["rollout"] is NSNull)
                #expect(object["lastDecision"] is NSNull)
                #expect(object["name"] as? String == "shop")
                #expect(object["instances"] as? [Any] != nil)
            }
        }
    }

    @Test(arguments: [
        "/api/v1/apps/nope", "/api/v1/apps/nope/rollouts", "/api/v1/apps/nope/releases",
        "/api/v1/apps/nope/metrics", "/api/v1/events?app=nope", "/api/v1/stream?app=nope",
    ])
    func anUnknownAppIs404(uri: String) async throws {
        let reading = try FixedReading()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .notFound)
                let error = try apiError(response)
                #expect(error.error.code == "notFound")
                #expect(error.error.message == "no app named \"nope\"")
            }
        }
    }

    @Test func rolloutsAreNewestFirstWithWhoWhyAndOutcome() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/rollouts", method: .get) { response in
                #expect(response.status == .ok)
                let records = try decodeAPI([RolloutRecord].self, response)
                #expect(records.map(\.number) == [2, 1])
                #expect(records.map(\.outcome) == ["promoted", "rolledBack"])
                #expect(records.last?.by == "ada" && records.last?.reason == "new checkout")
                #expect(records.last?.endReason == "successRate 0.91 < 0.99 over 412 requests")
                #expect(records.last?.startedAt == Date(timeIntervalSince1970: 1_735_689_603))
            }
        }
    }

    @Test func releasesAreNewestFirstWithTheirLastOutcomeAndTheStableOne() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/releases", method: .get) { response in
                #expect(response.status == .ok)
                let releases = try decodeAPI([ReleaseView].self, response)
                #expect(releases.map(\.version) == ["2.1.0", "2.0.0", "1.0.0"])
                #expect(releases.map(\.lastOutcome) == ["promoted", "rolledBack", nil])
                #expect(releases.map(\.stable) == [true, false, false])
                #expect(releases.last?.firstDeployedAt == Date(timeIntervalSince1970: 1_735_689_600))
                let objects = try #require(try jsonObject(response) as? [[String: Any]])
                #expect(objects.last?["lastOutcome"] is NSNull)
            }
        }
    }

    @Test func anAppOnlyTheLogKnowsHasItsHistory() async throws {
        let reading = try FixedReading(apps: [])
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/rollouts", method: .get) { response in
                #expect(response.status == .ok)
                let records = try decodeAPI([RolloutRecord].self, response)
                #expect(records.count == 2)
            }
            // Its live view needs its config.
            try await client.execute(uri: "/api/v1/apps/shop", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test(arguments: [
        ("/api/v1/apps?verbose=1", "unknown query parameter \"verbose\"; accepted: none"),
        (
            "/api/v1/apps/shop/metrics?seconds=0",
            "query parameter \"seconds\": expected a whole number from 1 to 600, got \"0\""
        ),
        (
            "/api/v1/apps/shop/metrics?seconds=601",
            "query parameter \"seconds\": expected a whole number from 1 to 600, got \"601\""
        ),
        ("/api/v1/apps/shop/metrics?second=10", "unknown query parameter \"second\"; accepted: \"seconds\""),
    ])
    func badQueriesAre400NamingTheParameter(uri: String, message: String) async throws {
        let reading = try FixedReading()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try apiError(response)
                #expect(error.error.code == "badRequest")
                #expect(error.error.message == message)
            }
        }
    }

    @Test func metricsAnswersTheHistoryOfTheLastSeconds() async throws {
        let reading = try FixedReading()
        let history = MetricsHistory(sample: { [] })
        let start = ContinuousClock.now
        for second in 0...5 {
            let sample = AppTrafficSample(app: "shop", takenAt: start + .seconds(second), versions: ["1.0.0": .empty])
            await history.record([sample], at: Date(timeIntervalSince1970: 1_735_689_600 + Double(second)))
        }
        try await apiApplication(reading, metrics: history).test(.router) { client in
            try await client.execute(uri: "/api/v1/apps/shop/metrics?seconds=3", method: .get) { response in
                #expect(response.status == .ok)
                let series = try decodeAPI(MetricsSeries.self, response)
                #expect(series.intervalSeconds == 1)
                #expect(series.points.map(\.t.timeIntervalSince1970) == [1_735_689_603, 1_735_689_604, 1_735_689_605])
                #expect(
                    series.points.last?.versions == [
                        "1.0.0": VersionRates(requests: 0, errors: 0, p99: nil, seconds: 1)
                    ]
                )
                let object = try #require(try jsonObject(response) as? [String: Any])
                let point = try #require((object["points"] as? [[String: Any]])?.last)
                let rates = try #require((point["versions"] as? [String: Any])?["1.0.0"] as? [String: Any])
                #expect(rates["p99Ms"] is NSNull)
                #expect(point["t"] as? String == "2025-01-01T00:00:05.000Z")
            }
            try await client.execute(uri: "/api/v1/apps/shop/metrics", method: .get) { response in
                let series = try decodeAPI(MetricsSeries.self, response)
                #expect(series.points.count == 5)
            }
        }
    }

    @Test func aPathOrMethodTheAPIDoesNotHaveIs404() async throws {
        let reading = try FixedReading()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/apps", method: .delete) { response in
                #expect(response.status == .notFound || response.status == .methodNotAllowed)
            }
        }
    }
}
