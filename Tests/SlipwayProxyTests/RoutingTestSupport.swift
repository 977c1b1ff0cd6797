import NIOHTTP1

@testable import SlipwayProxy

/// A seeded SplitMix64 generator, so that statistical routing tests draw the same sequence on every run.
struct RoutingSplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}

/// Builders for the routing tests' instances and tables.
enum RoutingFixtures {
    /// An instance on loopback with the given weight.
    static func instance(
        _ id: String,
        version: String = "1.0.0",
        port: Int = 9000,
        weight: Int = 1000
    ) throws -> UpstreamInstance {
        let instance = try UpstreamInstance(id: id, version: version, host: "127.0.0.1", port: port)
        instance.setWeight(weight)
        return instance
    }

    /// A version with `instances` full-weight instances named `<version>-<n>`.
    static func version(_ name: String, weight: Int, instances: Int = 1) throws -> VersionRoute {
        let members = try (0..<instances).map { index in
            try instance("\(name)-\(index)", version: name, port: 9000 + index)
        }
        return VersionRoute(version: name, weight: weight, instances: members)
    }

    /// How many of `draws` requests with `headers` went to each version index.
    static func versionCounts(
        _ table: RouteTable,
        draws: Int,
        headers: HTTPHeaders = [:],
        seed: UInt64 = 1
    ) -> [Int] {
        var random = RoutingSplitMix64(seed: seed)
        var counts = Array(repeating: 0, count: table.versions.count)
        for _ in 0..<draws {
            if let decision = table.route(headers: headers, random: &random) {
                counts[decision.versionIndex] += 1
            }
        }
        return counts
    }

    /// How many of `draws` requests went to each instance, by instance id.
    static func instanceCounts(_ table: RouteTable, draws: Int, seed: UInt64 = 1) -> [String: Int] {
        var random = RoutingSplitMix64(seed: seed)
        var counts: [String: Int] = [:]
        for _ in 0..<draws {
            if let decision = table.route(headers: [:], random: &random) {
                counts[decision.instance.id, default: 0] += 1
            }
        }
        return counts
    }
}
