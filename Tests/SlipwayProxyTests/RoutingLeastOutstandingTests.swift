import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: weighted least-outstanding within a version")
struct RoutingLeastOutstandingTests {
    private static func table(_ instances: [UpstreamInstance]) throws -> RouteTable {
        try RouteTable(versions: [VersionRoute(version: "1.0.0", weight: 10000, instances: instances)])
    }

    private static func instances(weights: [Int]) throws -> [UpstreamInstance] {
        try weights.enumerated().map { index, weight in
            try RoutingFixtures.instance("i\(index)", port: 9000 + index, weight: weight)
        }
    }

    /// Routes `draws` requests, each lasting `lifetime` routing steps, and counts the picks per instance.
    ///
    /// Every request stays in flight for the same number of steps, so an instance's share of picks equals its share
    /// of the in-flight requests, which least-outstanding balances in proportion to weight.
    private static func simulate(_ table: RouteTable, draws: Int, lifetime: Int, seed: UInt64) throws -> [String: Int] {
        var random = RoutingSplitMix64(seed: seed)
        var inFlight: [UpstreamInstance] = []
        var counts: [String: Int] = [:]
        for step in 0..<draws {
            let instance = try #require(table.route(headers: [:], random: &random)).instance
            instance.requestStarted()
            inFlight.append(instance)
            if step >= lifetime {
                inFlight[step - lifetime].requestFinished()
            }
            counts[instance.id, default: 0] += 1
        }
        for instance in inFlight.suffix(lifetime) {
            instance.requestFinished()
        }
        return counts
    }

    @Test("A busy instance is never chosen while idle ones exist, and the idle ones share the load")
    func busyInstanceAvoided() throws {
        let instances = try Self.instances(weights: [1000, 1000, 1000])
        for _ in 0..<5 {
            instances[0].requestStarted()
        }
        let counts = RoutingFixtures.instanceCounts(try Self.table(instances), draws: 3000)
        #expect(counts["i0"] == nil)
        #expect((counts["i1"] ?? 0) > 600, "\(counts)")
        #expect((counts["i2"] ?? 0) > 600, "\(counts)")
    }

    @Test("Weights 1000 and 250 draw about 4:1 under load")
    func weightedRatio() throws {
        let instances = try Self.instances(weights: [1000, 250])
        let counts = try Self.simulate(try Self.table(instances), draws: 50_000, lifetime: 200, seed: 41)
        let ratio = Double(counts["i0"] ?? 0) / Double(counts["i1"] ?? 1)
        // (a + 1) / 1000 = (b + 1) / 250 with a + b = 200 in flight gives a ratio of about 4.08.
        #expect(ratio > 3.7 && ratio < 4.4, "ratio \(ratio): \(counts)")
        #expect(instances.allSatisfy { $0.inFlight == 0 })
    }

    @Test("Equal weights under the same load draw evenly")
    func equalWeightsEven() throws {
        let instances = try Self.instances(weights: [1000, 1000])
        let counts = try Self.simulate(try Self.table(instances), draws: 50_000, lifetime: 200, seed: 42)
        let ratio = Double(counts["i0"] ?? 0) / Double(counts["i1"] ?? 1)
        #expect(ratio > 0.95 && ratio < 1.05, "ratio \(ratio): \(counts)")
    }

    @Test("An idle instance with the larger weight wins")
    func idleHeavierWins() throws {
        let counts = RoutingFixtures.instanceCounts(
            try Self.table(try Self.instances(weights: [250, 1000])),
            draws: 500
        )
        #expect(counts == ["i1": 500])
    }

    @Test("An instance at weight 0 is never chosen")
    func zeroWeightNeverChosen() throws {
        let instances = try Self.instances(weights: [0, 1000, 0])
        let counts = try Self.simulate(try Self.table(instances), draws: 5000, lifetime: 50, seed: 43)
        #expect(counts == ["i1": 5000])
    }

    @Test("When every instance of the chosen version is at weight 0, another version serves")
    func allZeroFallsBack() throws {
        let drained = try Self.instances(weights: [0, 0])
        let table = try RouteTable(versions: [
            VersionRoute(version: "candidate", weight: 10000, instances: drained),
            RoutingFixtures.version("stable", weight: 0),
        ])
        #expect(RoutingFixtures.versionCounts(table, draws: 1000) == [0, 1000])
        let alone = try Self.table(drained)
        var random = RoutingSplitMix64(seed: 44)
        #expect(alone.route(headers: [:], random: &random) == nil)
    }

    @Test("With more than 8 instances, two random choices spread the load by weight")
    func twoChoicesByWeight() throws {
        let instances = try Self.instances(weights: Array(repeating: 1000, count: 6) + Array(repeating: 250, count: 6))
        let counts = try Self.simulate(try Self.table(instances), draws: 60_000, lifetime: 300, seed: 45)
        let heavy = (0..<6).reduce(0) { $0 + (counts["i\($1)"] ?? 0) }
        let share = Double(heavy) / 60_000
        // Exact balancing would give 0.8; two choices approximates it.
        #expect(share > 0.7 && share < 0.85, "heavy share \(share): \(counts)")
        #expect(counts.count == 12, "\(counts)")
    }

    @Test("With more than 8 instances, the busiest is never chosen and weight 0 never is")
    func twoChoicesAvoidsBusyAndZero() throws {
        let instances = try Self.instances(weights: [0] + Array(repeating: 1000, count: 9))
        for _ in 0..<50 {
            instances[1].requestStarted()
        }
        let counts = RoutingFixtures.instanceCounts(try Self.table(instances), draws: 10_000)
        #expect(counts["i0"] == nil)
        #expect(counts["i1"] == nil)
        #expect(counts.count == 8, "\(counts)")
    }

    @Test("With more than 8 instances and one routable, that one is always found")
    func twoChoicesFindsTheOnlyRoutable() throws {
        let instances = try Self.instances(weights: Array(repeating: 0, count: 11) + [1000])
        #expect(RoutingFixtures.instanceCounts(try Self.table(instances), draws: 1000) == ["i11": 1000])
        instances[11].setWeight(0)
        #expect(RoutingFixtures.instanceCounts(try Self.table(instances), draws: 100).isEmpty)
    }
}
