import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayServer
import SlipwayStore
import Testing

/// `GET /api/v1/events`: pages backwards (newest first) and forwards (oldest first), with strict parameters.
@Suite struct EventPagingTests {
    /// 30 events: `shop` and `cart` interleaved, `shop` has every odd id.
    private func interleaved() throws -> FixedReading {
        let cart = ConfiguredApp(name: "cart", listen: "127.0.0.1:8081", instances: 1, version: "1.0.0")
        let reading = try FixedReading(apps: [FixedReading.shop, cart])
        try reading.append((0..<30).map { Event.note($0.isMultiple(of: 2) ? "shop" : "cart", $0) })
        return reading
    }

    private func page(_ client: some TestClientProtocol, _ uri: String) async throws -> (ids: [Int64], next: Int64?) {
        try await client.execute(uri: uri, method: .get) { response in
            #expect(response.status == .ok)
            let page = try decodeAPI(EventPage.self, response)
            return (page.events.map(\.id), page.next)
        }
    }

    @Test func withoutACursorTheNewestComeFirst() async throws {
        let reading = try interleaved()
        try await apiApplication(reading).test(.router) { client in
            let all = try await page(client, "/api/v1/events?limit=5")
            #expect(all.ids == [30, 29, 28, 27, 26])
            #expect(all.next == 26)
            let shop = try await page(client, "/api/v1/events?app=shop&limit=3")
            #expect(shop.ids == [29, 27, 25])
            #expect(shop.next == 25)
        }
    }

    @Test func pagingBackwardsWalksToTheStartWithoutGapsOrRepeats() async throws {
        let reading = try interleaved()
        try await apiApplication(reading).test(.router) { client in
            var seen: [Int64] = []
            var before: Int64? = nil
            repeat {
                let uri = "/api/v1/events?app=shop&limit=4" + (before.map { "&before=\($0)" } ?? "")
                let page = try await page(client, uri)
                seen += page.ids
                before = page.next
            } while before != nil && seen.count < 100
            #expect(seen == Array(stride(from: Int64(29), through: 1, by: -2)))
        }
    }

    @Test func pagingForwardsCatchesUpOldestFirst() async throws {
        let reading = try interleaved()
        try await apiApplication(reading).test(.router) { client in
            let first = try await page(client, "/api/v1/events?app=cart&after=0&limit=10")
            #expect(first.ids == Array(stride(from: Int64(2), through: 20, by: 2)))
            #expect(first.next == 20)
            let second = try await page(client, "/api/v1/events?app=cart&after=20&limit=10")
            #expect(second.ids == [22, 24, 26, 28, 30])
            #expect(second.next == nil)
            let everything = try await page(client, "/api/v1/events?after=27")
            #expect(everything.ids == [28, 29, 30])
        }
    }

    @Test func theDefaultLimitIs100AndBeforeReachesAcrossSparseApps() async throws {
        let reading = try FixedReading()
        try reading.append((0..<150).map { Event.note("shop", $0) })
        try reading.append((0..<700).map { Event.note("other", $0) }, startingAt: 150)
        try reading.append([Event.note("shop", 150)], startingAt: 850)
        try await apiApplication(reading).test(.router) { client in
            let newest = try await page(client, "/api/v1/events?app=shop")
            #expect(newest.ids.count == 100)
            #expect(newest.ids.first == 851 && newest.ids.last == 52)
            let older = try await page(client, "/api/v1/events?app=shop&before=851&limit=500")
            #expect(older.ids == Array(stride(from: Int64(150), through: 1, by: -1)))
            #expect(older.next == nil)
        }
    }

    @Test func eventsAreTheLogsJSON() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/events?after=1&limit=1", method: .get) { response in
                let object = try #require(try jsonObject(response) as? [String: Any])
                let event = try #require((object["events"] as? [[String: Any]])?.first)
                #expect(event["id"] as? Int == 2)
                #expect(event["time"] as? String == "2025-01-01T00:00:01.000Z")
                let body = try #require(event["event"] as? [String: Any])
                #expect(body["app"] as? String == "shop")
                #expect(body["kind"] as? String == "instanceStarted")
                #expect(body["instance"] as? String == "shop-1")
                #expect((body["fields"] as? [String: Any])?["pid"] as? Int == 4242)
                #expect(object["next"] as? Int == 2)
            }
            try await client.execute(uri: "/api/v1/events?after=100", method: .get) { response in
                let object = try #require(try jsonObject(response) as? [String: Any])
                #expect(object["next"] is NSNull)
                #expect((object["events"] as? [Any])?.isEmpty == true)
            }
        }
    }

    /// `after` and `before` together: the events between them, oldest first, paged forward up to `before`.
    @Test func aRangeIsReadForwardUpToItsEnd() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            func ids(_ query: String) async throws -> ([Int], Any?) {
                var result: ([Int], Any?) = ([], nil)
                try await client.execute(uri: "/api/v1/events?" + query, method: .get) { response in
                    #expect(response.status == .ok)
                    let object = try #require(try jsonObject(response) as? [String: Any])
                    let events = object["events"] as? [[String: Any]] ?? []
                    result = (events.compactMap { $0["id"] as? Int }, object["next"])
                }
                return result
            }
            let (first, next) = try await ids("after=1&before=5&limit=2")
            #expect(first == [2, 3] && next as? Int == 3)
            let (last, end) = try await ids("after=3&before=5&limit=2")
            #expect(last == [4] && end is NSNull)
            let (empty, none) = try await ids("after=4&before=5")
            #expect(empty.isEmpty && none is NSNull)
        }
    }

    @Test(arguments: [
        ("limit=0", "query parameter \"limit\": expected a whole number from 1 to 500, got \"0\""),
        ("limit=501", "query parameter \"limit\": expected a whole number from 1 to 500, got \"501\""),
        ("limit=ten", "query parameter \"limit\": expected a whole number from 1 to 500, got \"ten\""),
        ("before=0", "query parameter \"before\": expected a whole number of at least 1, got \"0\""),
        ("before=-3", "query parameter \"before\": expected a whole number of at least 1, got \"-3\""),
        ("after=x", "query parameter \"after\": expected a whole number of at least 0, got \"x\""),
        ("limit=1&limit=2", "query parameter \"limit\" is given more than once"),
        ("app=", "query parameter \"app\" is empty"),
        ("page=2", "unknown query parameter \"page\"; accepted: \"after\", \"app\", \"before\", \"limit\""),
    ])
    func badParametersAre400(query: String, message: String) async throws {
        let reading = try FixedReading()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/api/v1/events?" + query, method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try apiError(response)
                #expect(error.error.code == "badRequest")
                #expect(error.error.message == message)
            }
        }
    }
}
