import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: stickiness")
struct RoutingStickinessTests {
    private static func candidateTable(weight: Int, stickiness: Stickiness) throws -> RouteTable {
        try RouteTable(
            versions: [
                RoutingFixtures.version("candidate", weight: weight),
                RoutingFixtures.version("stable", weight: 10000 - weight),
            ],
            stickiness: stickiness
        )
    }

    @Test("Cookie buckets on the candidate stay there as its weight grows")
    func cookieMonotone() throws {
        var random = RoutingSplitMix64(seed: 11)
        var previous: Set<Int> = []
        for weight in [500, 2500, 5000, 10000] {
            let table = try Self.candidateTable(weight: weight, stickiness: .cookie(name: "sw"))
            var onCandidate: Set<Int> = []
            for bucket in 0..<10000 {
                let decision = try #require(table.route(headers: ["Cookie": "sw=\(bucket)"], random: &random))
                #expect(decision.setCookie == nil)
                if decision.versionIndex == 0 {
                    onCandidate.insert(bucket)
                }
            }
            #expect(onCandidate.count == weight, "weight \(weight)")
            #expect(previous.isSubset(of: onCandidate), "weight \(weight) moved users off the candidate")
            #expect(onCandidate.allSatisfy { $0 < weight })
            previous = onCandidate
        }
    }

    @Test("The same header value always reaches the same version")
    func headerStable() throws {
        let table = try Self.candidateTable(weight: 5000, stickiness: .header(name: "X-User"))
        var random = RoutingSplitMix64(seed: 5)
        for user in ["alice", "bob", "carol", "user-42"] {
            var versions: Set<Int> = []
            for _ in 0..<1000 {
                versions.insert(try #require(table.route(headers: ["x-user": user], random: &random)).versionIndex)
            }
            #expect(versions.count == 1, "\(user) saw versions \(versions)")
        }
    }

    @Test("Different header values spread evenly over the weights")
    func headerSpread() throws {
        let table = try RouteTable(
            versions: [
                RoutingFixtures.version("a", weight: 2000),
                RoutingFixtures.version("b", weight: 3000),
                RoutingFixtures.version("c", weight: 5000),
            ],
            stickiness: .header(name: "X-User")
        )
        var random = RoutingSplitMix64(seed: 9)
        var counts = [0, 0, 0]
        for user in 0..<20_000 {
            counts[try #require(table.route(headers: ["X-User": "user-\(user)"], random: &random)).versionIndex] += 1
        }
        for (index, expected) in [0.2, 0.3, 0.5].enumerated() {
            let share = Double(counts[index]) / 20_000
            #expect(abs(share - expected) <= 0.015, "version \(index) share \(share), expected \(expected)")
        }
    }

    @Test("Without the header the bucket is random")
    func headerAbsent() throws {
        let table = try Self.candidateTable(weight: 5000, stickiness: .header(name: "X-User"))
        let counts = RoutingFixtures.versionCounts(table, draws: 10_000, headers: ["X-Other": "alice"])
        #expect(abs(Double(counts[0]) / 10_000 - 0.5) <= 0.02, "candidate got \(counts[0])")
    }

    @Test("The header hash is fixed, so every proxy process agrees")
    func headerHashFixed() {
        #expect(TrafficBucket.hash("alice") == TrafficBucket.hash("alice"))
        #expect(TrafficBucket.hash("alice") != TrafficBucket.hash("alicf"))
        #expect((0..<10000).contains(TrafficBucket.hash("")))
        // Pinned so that a change of hash, which would move users between versions, is noticed.
        #expect(TrafficBucket.hash("alice") == 7236)
    }

    @Test("No stickiness never asks for a cookie")
    func noneSetsNoCookie() throws {
        let table = try Self.candidateTable(weight: 5000, stickiness: .none)
        var random = RoutingSplitMix64(seed: 2)
        for _ in 0..<1000 {
            #expect(try #require(table.route(headers: ["Cookie": "sw=1"], random: &random)).setCookie == nil)
        }
    }
}
