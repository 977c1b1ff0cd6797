import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: route table box")
struct RoutingTableBoxTests {
    @Test("A box starts empty and returns what was stored")
    func loadStore() throws {
        let box = RouteTableBox()
        #expect(box.load() === RouteTable.empty)
        let table = try RouteTable(versions: [RoutingFixtures.version("a", weight: 10000)])
        box.store(table)
        #expect(box.load() === table)
        #expect(RouteTableBox(table).load() === table)
    }

    @Test("Readers on several threads always see a whole table while writers swap them")
    func concurrentSwaps() async throws {
        let tables = try (0..<4).map { index in
            try RouteTable(versions: [
                RoutingFixtures.version("candidate-\(index)", weight: 1000 * (index + 1), instances: index + 1),
                RoutingFixtures.version("stable-\(index)", weight: 10000 - 1000 * (index + 1)),
            ])
        }
        let box = RouteTableBox(tables[0])
        let known = Set(tables.map(ObjectIdentifier.init))
        let failures = await withTaskGroup(of: Int.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    for step in 0..<2000 {
                        box.store(tables[(step + writer) % tables.count])
                    }
                    return 0
                }
            }
            for reader in 0..<4 {
                group.addTask {
                    var random = RoutingSplitMix64(seed: UInt64(reader))
                    var failures = 0
                    for _ in 0..<5000 {
                        let table = box.load()
                        guard known.contains(ObjectIdentifier(table)),
                            let decision = table.route(headers: [:], random: &random),
                            table.versions[decision.versionIndex].instances.contains(where: { $0 === decision.instance }
                            )
                        else {
                            failures += 1
                            continue
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
        #expect(known.contains(ObjectIdentifier(box.load())))
    }
}
