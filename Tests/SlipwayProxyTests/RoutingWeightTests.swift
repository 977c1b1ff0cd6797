import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: version weights")
struct RoutingWeightTests {
    @Test("5% / 95% holds within 0.3 points over 100,000 requests")
    func fiveNinetyFive() throws {
        let table = try RouteTable(versions: [
            RoutingFixtures.version("candidate", weight: 500),
            RoutingFixtures.version("stable", weight: 9500),
        ])
        let counts = RoutingFixtures.versionCounts(table, draws: 100_000)
        let candidateShare = Double(counts[0]) / 100_000
        #expect(abs(candidateShare - 0.05) <= 0.003, "candidate share \(candidateShare)")
        #expect(counts[0] + counts[1] == 100_000)
    }

    @Test("20 / 30 / 50 across three versions")
    func threeVersions() throws {
        let table = try RouteTable(versions: [
            RoutingFixtures.version("a", weight: 2000),
            RoutingFixtures.version("b", weight: 3000),
            RoutingFixtures.version("c", weight: 5000),
        ])
        let counts = RoutingFixtures.versionCounts(table, draws: 100_000, seed: 7)
        for (index, expected) in [0.2, 0.3, 0.5].enumerated() {
            let share = Double(counts[index]) / 100_000
            #expect(abs(share - expected) <= 0.005, "version \(index) share \(share), expected \(expected)")
        }
    }

    @Test("A version at weight 0 gets nothing while the others can serve")
    func zeroWeightVersion() throws {
        let table = try RouteTable(versions: [
            RoutingFixtures.version("old", weight: 0),
            RoutingFixtures.version("new", weight: 10000),
        ])
        #expect(RoutingFixtures.versionCounts(table, draws: 10_000) == [0, 10_000])
    }

    @Test("A version with no instances falls back to the others, heaviest first")
    func fallbackByWeight() throws {
        let table = try RouteTable(versions: [
            VersionRoute(version: "candidate", weight: 5000, instances: []),
            RoutingFixtures.version("light", weight: 1000),
            RoutingFixtures.version("heavy", weight: 4000),
        ])
        let counts = RoutingFixtures.versionCounts(table, draws: 10_000)
        #expect(counts[0] == 0)
        // The heavy version keeps its own share and takes all of the candidate's.
        #expect(abs(Double(counts[2]) / 10_000 - 0.9) <= 0.02, "heavy got \(counts[2])")
        #expect(abs(Double(counts[1]) / 10_000 - 0.1) <= 0.02, "light got \(counts[1])")
    }

    @Test("Nothing routable gives nil")
    func nothingRoutable() throws {
        var random = RoutingSplitMix64(seed: 3)
        #expect(RouteTable.empty.route(headers: [:], random: &random) == nil)
        let noInstances = try RouteTable(versions: [VersionRoute(version: "a", weight: 10000, instances: [])])
        #expect(noInstances.route(headers: [:], random: &random) == nil)
        let idle = try RoutingFixtures.instance("a-0", weight: 0)
        let allZero = try RouteTable(versions: [VersionRoute(version: "a", weight: 10000, instances: [idle])])
        #expect(allZero.route(headers: [:], random: &random) == nil)
    }

    @Test("instances lists every instance in version order")
    func instancesInOrder() throws {
        let table = try RouteTable(versions: [
            RoutingFixtures.version("a", weight: 5000, instances: 2),
            RoutingFixtures.version("b", weight: 5000, instances: 3),
        ])
        #expect(table.instances.map(\.id) == ["a-0", "a-1", "b-0", "b-1", "b-2"])
        #expect(RouteTable.empty.instances.isEmpty)
    }
}
