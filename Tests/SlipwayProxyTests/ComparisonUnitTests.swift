import AsyncHTTPClient
import Foundation
import NIOHTTP1
import SlipwayCore
import Testing

@testable import SlipwayProxy

/// Comparison units: requests the weights assigned, a sticky user once.
@Suite struct ComparisonUnitTests {
    static func table(stickiness: Stickiness = .none, rules: [MatchRule] = []) throws -> RouteTable {
        try RouteTable(
            versions: [
                RoutingFixtures.version("2.0", weight: 5_000),
                RoutingFixtures.version("1.0", weight: 5_000),
            ],
            rules: rules,
            stickiness: stickiness
        )
    }

    @Test func aDecisionSaysWhetherTheWeightsChoseAndWhichUserItFollows() throws {
        var random = RoutingSplitMix64(seed: 7)
        let plain = try #require(try Self.table().route(headers: [:], random: &random))
        #expect(plain.byWeight && plain.user == nil)

        let byHeader = try Self.table(stickiness: .header(name: "X-User"))
        let alice = try #require(byHeader.route(headers: ["X-User": "alice"], random: &random))
        #expect(alice.byWeight)
        #expect(alice.user == TrafficBucket.userKey("alice"))
        #expect(alice.user.map(TrafficBucket.bucket(ofUser:)) == TrafficBucket.hash("alice"))
        // Without the header the request draws its own bucket and follows nobody.
        #expect(try #require(byHeader.route(headers: [:], random: &random)).user == nil)

        let byCookie = try Self.table(stickiness: .cookie(name: "slipway-bucket"))
        let returning = try #require(byCookie.route(headers: ["Cookie": "slipway-bucket=1234"], random: &random))
        #expect(returning.user == 1234)
        let new = try #require(byCookie.route(headers: [:], random: &random))
        // A new user gets a random id beside the bucket, so that users sharing a bucket are told apart.
        let cookie = try #require(new.setCookie)
        #expect(new.user == cookie.user)
        let value = TrafficBucket.cookieValue(bucket: cookie.bucket, user: cookie.user)
        let again = try #require(byCookie.route(headers: ["Cookie": "slipway-bucket=\(value)"], random: &random))
        #expect(again.setCookie == nil)
        #expect(again.user == cookie.user)
        #expect(again.versionIndex == new.versionIndex)

        let ruled = try Self.table(
            rules: [MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "2.0")]
        )
        let beta = try #require(ruled.route(headers: ["X-Beta": "yes"], random: &random))
        #expect(beta.matchedRule && !beta.byWeight)
    }

    @Test func aFallbackToAnotherVersionIsNotAUnit() throws {
        let empty = VersionRoute(version: "2.0", weight: 10_000, instances: [])
        let table = try RouteTable(versions: [empty, try RoutingFixtures.version("1.0", weight: 0)])
        var random = RoutingSplitMix64(seed: 1)
        let decision = try #require(table.route(headers: [:], random: &random))
        #expect(decision.versionIndex == 1)
        #expect(!decision.byWeight)
    }

    @Test func aUserIsSeenOnceAnEpochAndTheSightingsAreBounded() {
        var sightings = UserSightings()
        #expect(sightings.sight(42, epoch: 1) == true)
        #expect(sightings.sight(42, epoch: 1) == false)
        #expect(sightings.sight(7, epoch: 1) == true)
        // A new epoch forgets everyone.
        #expect(sightings.sight(42, epoch: 2) == true)
        // A request routed by an older table counts in no epoch, and forgets nobody.
        #expect(sightings.sight(99, epoch: 1) == nil)
        #expect(sightings.sight(42, epoch: 2) == false)
        for user in 0..<UInt64(UserSightings.capacity) { _ = sightings.sight(1_000 + user, epoch: 3) }
        #expect(sightings.sight(42, epoch: 3) == nil)
        #expect(sightings.sight(1_000, epoch: 3) == false)
    }

    @Test func aCookieCarriesTheBucketAndTheUser() {
        func parse(_ text: String) -> (bucket: Int, user: UInt64)? {
            Array(text.utf8).withUnsafeBufferPointer { TrafficBucket.parseCookie($0) }
        }
        #expect(TrafficBucket.cookieValue(bucket: 300, user: 255) == "300.00000000000000ff")
        #expect(parse("300.00000000000000ff").map { [$0.bucket, Int($0.user)] } == [300, 255])
        #expect(parse("9999.ffffffffffffffff")?.user == .max)
        // Earlier versions' cookies: the bucket stands for the user.
        #expect(parse("1234").map { [$0.bucket, Int($0.user)] } == [1234, 1234])
        for invalid in [
            "", ".00000000000000ff", "300.", "300.ff", "300.00000000000000FF", "300.00000000000000fg",
            "10000.00000000000000ff", "300.00000000000000ff0", "300-00000000000000ff",
        ] {
            #expect(parse(invalid) == nil, "\(invalid)")
        }
    }

    @Test func unitsTravelInSamplesAndAnOlderDataPlaneSendsNone() throws {
        var snapshot = TrafficSnapshot.empty
        snapshot.units = ComparisonUnits(units: 5, bad: 2)
        snapshot.requests = 9
        let decoded = try JSONDecoder().decode(TrafficSnapshot.self, from: try JSONEncoder().encode(snapshot))
        #expect(decoded.units == ComparisonUnits(units: 5, bad: 2))
        var older = decoded
        older.units = nil
        let olderDecoded = try JSONDecoder().decode(TrafficSnapshot.self, from: try JSONEncoder().encode(older))
        #expect(olderDecoded.units == nil)
        #expect(olderDecoded.window(since: .empty).units == nil)
        #expect(decoded.window(since: .empty).units == ComparisonUnits(units: 5, bad: 2))
        // Merged parts count units only when every part does.
        var merged = decoded
        merged.add(olderDecoded)
        #expect(merged.units == nil)
    }
}

/// Units through a real listener: every request without stickiness, a sticky user's first request, nothing a rule
/// sent.
@Suite struct ComparisonUnitLiveTests {
    @Test func stickyUsersCountOnceAndRuleChosenRequestsNotAtAll() async throws {
        let upstream = try await FixtureUpstream.start(name: "app")
        let proxy = try await LiveProxy.start()
        func route(_ stickiness: Stickiness, rules: [MatchRule] = []) throws {
            proxy.listener.update(
                try RouteTable(
                    versions: [
                        VersionRoute(
                            version: "2.0",
                            weight: 5_000,
                            instances: [upstream.instance("b", version: "2.0")]
                        ),
                        VersionRoute(
                            version: "1.0",
                            weight: 5_000,
                            instances: [upstream.instance("a", version: "1.0")]
                        ),
                    ],
                    rules: rules,
                    stickiness: stickiness
                )
            )
        }
        /// Units and bad units so far, and the units whose response time was counted.
        func units() async -> ComparisonUnits {
            let sample = await proxy.listener.sample()
            let all = ["1.0", "2.0"].compactMap { sample.versions[$0]?.units }
            let sum = all.reduce(ComparisonUnits()) { $0.adding($1) }
            #expect(sum.latency.responses == sum.units)
            return ComparisonUnits(units: sum.units, bad: sum.bad)
        }
        try await withClient { client in
            try route(.none)
            for _ in 0..<20 { _ = try await get(client, proxy.url + "/") }
            for _ in 0..<5 { _ = try await get(client, proxy.url + "/status?code=500") }
            #expect(await units() == ComparisonUnits(units: 25, bad: 5))

            // Ten users, six requests each, the first of each a 500: ten units, all bad.
            try route(.header(name: "X-User"))
            for user in 0..<10 {
                for request in 0..<6 {
                    let path = request == 0 ? "/status?code=500" : "/"
                    _ = try await get(client, proxy.url + path, headers: [("X-User", "user-\(user)")])
                }
            }
            #expect(await units() == ComparisonUnits(units: 35, bad: 15))
            // A request without the header drew its own bucket: a unit of its own.
            _ = try await get(client, proxy.url + "/")
            #expect(await units() == ComparisonUnits(units: 36, bad: 15))

            // Same versions taking traffic: the same users are not new.
            try route(.header(name: "X-User"))
            _ = try await get(client, proxy.url + "/", headers: [("X-User", "user-0")])
            #expect(await units() == ComparisonUnits(units: 36, bad: 15))

            // A rule's requests are not units.
            try route(
                .header(name: "X-User"),
                rules: [MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "2.0")]
            )
            for _ in 0..<4 {
                _ = try await get(client, proxy.url + "/", headers: [("X-Beta", "yes"), ("X-User", "beta-user")])
            }
            #expect(await units() == ComparisonUnits(units: 36, bad: 15))

            // Cookie stickiness: each new user gets a cookie and is a unit; coming back with it, not again.
            try route(.cookie(name: "sw"))
            var cookies: [String] = []
            for _ in 0..<3 {
                var request = HTTPClientRequest(url: proxy.url + "/")
                request.method = .GET
                let response = try await client.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                let setCookie = try #require(response.headers.first(name: "Set-Cookie"))
                #expect(setCookie.hasSuffix("; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax"))
                cookies.append(String(setCookie.prefix { $0 != ";" }))
            }
            for cookie in cookies {
                let value = Array(cookie.utf8.dropFirst("sw=".count))
                #expect(cookie.hasPrefix("sw=") && value.contains(UInt8(ascii: ".")), "\(cookie)")
                #expect(value.withUnsafeBufferPointer { TrafficBucket.parseCookie($0) } != nil, "\(cookie)")
            }
            for cookie in cookies {
                for _ in 0..<3 { _ = try await get(client, proxy.url + "/", headers: [("Cookie", cookie)]) }
            }
            #expect(await units() == ComparisonUnits(units: 39, bad: 15))
            try route(.header(name: "X-User"))

            // Another set of versions taking traffic (the end of a rollout, say): everybody is new again.
            proxy.listener.update(
                try RouteTable(
                    versions: [
                        VersionRoute(
                            version: "1.0",
                            weight: 10_000,
                            instances: [upstream.instance("a", version: "1.0")]
                        )
                    ],
                    stickiness: .header(name: "X-User")
                )
            )
            _ = try await get(client, proxy.url + "/", headers: [("X-User", "user-0")])
            _ = try await get(client, proxy.url + "/", headers: [("X-User", "user-0")])
            #expect(await units() == ComparisonUnits(units: 40, bad: 15))
        }
        let sample = await proxy.listener.sample()
        let requests = ["1.0", "2.0"].compactMap { sample.versions[$0]?.requests }.reduce(0, +)
        #expect(requests == 25 + 60 + 1 + 1 + 4 + 3 + 9 + 2)
        try await proxy.stop()
        try await upstream.stop()
    }
}
