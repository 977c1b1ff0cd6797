import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: match rules")
struct RoutingMatchRuleTests {
    /// The beta version has weight 0, so only a rule can send traffic to it.
    private static func table(rules: [MatchRule], stickiness: Stickiness = .none) throws -> RouteTable {
        try RouteTable(
            versions: [
                RoutingFixtures.version("beta", weight: 0),
                RoutingFixtures.version("stable", weight: 10000),
            ],
            rules: rules,
            stickiness: stickiness
        )
    }

    private static func versionIndices(_ table: RouteTable, _ headers: HTTPHeaders) -> Set<Int> {
        var random = RoutingSplitMix64(seed: 31)
        var seen: Set<Int> = []
        for _ in 0..<200 {
            if let decision = table.route(headers: headers, random: &random) {
                seen.insert(decision.versionIndex)
                #expect(decision.matchedRule == (decision.versionIndex == 0))
            }
        }
        return seen
    }

    @Test("Header equals: the name is case-insensitive, the value exact")
    func headerEquals() throws {
        let table = try Self.table(rules: [
            MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "beta")
        ])
        #expect(Self.versionIndices(table, ["x-beta": "yes"]) == [0])
        #expect(Self.versionIndices(table, ["X-BETA": "yes"]) == [0])
        #expect(Self.versionIndices(table, ["X-Other": "1", "x-beta": "no", "X-Beta": "yes"]) == [0])
        #expect(Self.versionIndices(table, ["X-Beta": "Yes"]) == [1])
        #expect(Self.versionIndices(table, ["X-Beta": "yes "]) == [1])
        #expect(Self.versionIndices(table, [:]) == [1])
    }

    @Test("Header matches: the regular expression must match the whole value")
    func headerMatches() throws {
        let table = try Self.table(rules: [
            MatchRule(condition: .headerMatches(name: "X-User", pattern: #"(alice|bob)@example\.com"#), version: "beta")
        ])
        #expect(Self.versionIndices(table, ["x-user": "bob@example.com"]) == [0])
        #expect(Self.versionIndices(table, ["X-User": "alice@example.com"]) == [0])
        #expect(Self.versionIndices(table, ["X-User": "bob@example.com.evil"]) == [1])
        #expect(Self.versionIndices(table, ["X-User": "mallory+bob@example.com"]) == [1])
        #expect(Self.versionIndices(table, ["X-User": "carol@example.com"]) == [1])
    }

    @Test("Cookie equals reads the Cookie header")
    func cookieEquals() throws {
        let table = try Self.table(rules: [
            MatchRule(condition: .cookieEquals(name: "beta", value: "1"), version: "beta")
        ])
        #expect(Self.versionIndices(table, ["Cookie": "session=abc; beta=1"]) == [0])
        #expect(Self.versionIndices(table, ["Cookie": "beta=0"]) == [1])
        #expect(Self.versionIndices(table, ["Cookie": "notbeta=1"]) == [1])
        #expect(Self.versionIndices(table, ["X-Beta": "1"]) == [1])
    }

    @Test("The first matching rule wins")
    func firstRuleWins() throws {
        let table = try RouteTable(
            versions: [
                RoutingFixtures.version("beta", weight: 0),
                RoutingFixtures.version("alpha", weight: 0),
                RoutingFixtures.version("stable", weight: 10000),
            ],
            rules: [
                MatchRule(condition: .headerEquals(name: "X-Ring", value: "0"), version: "alpha"),
                MatchRule(condition: .headerMatches(name: "X-Ring", pattern: "[0-9]"), version: "beta"),
            ]
        )
        #expect(RoutingFixtures.versionCounts(table, draws: 100, headers: ["X-Ring": "0"]) == [0, 100, 0])
        #expect(RoutingFixtures.versionCounts(table, draws: 100, headers: ["X-Ring": "1"]) == [100, 0, 0])
        #expect(RoutingFixtures.versionCounts(table, draws: 100, headers: ["X-Ring": "x"]) == [0, 0, 100])
    }

    @Test("A rule whose version cannot serve falls through to the next rule, then to the weights")
    func unroutableRuleFallsThrough() throws {
        let drained = try RoutingFixtures.instance("alpha-0", version: "alpha", weight: 0)
        let table = try RouteTable(
            versions: [
                VersionRoute(version: "empty", weight: 0, instances: []),
                VersionRoute(version: "alpha", weight: 0, instances: [drained]),
                RoutingFixtures.version("beta", weight: 0),
                RoutingFixtures.version("stable", weight: 10000),
            ],
            rules: [
                MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "empty"),
                MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "alpha"),
                MatchRule(condition: .cookieEquals(name: "beta", value: "1"), version: "beta"),
            ]
        )
        var random = RoutingSplitMix64(seed: 32)
        let weighted = try #require(table.route(headers: ["X-Beta": "yes"], random: &random))
        #expect(weighted.versionIndex == 3)
        #expect(!weighted.matchedRule)
        let nextRule = try #require(table.route(headers: ["X-Beta": "yes", "Cookie": "beta=1"], random: &random))
        #expect(nextRule.versionIndex == 2)
        #expect(nextRule.matchedRule)
    }

    @Test("A matched request still gets its sticky cookie")
    func ruleWithStickyCookie() throws {
        let table = try Self.table(
            rules: [MatchRule(condition: .headerEquals(name: "X-Beta", value: "yes"), version: "beta")],
            stickiness: .cookie(name: "sw")
        )
        var random = RoutingSplitMix64(seed: 33)
        let fresh = try #require(table.route(headers: ["X-Beta": "yes"], random: &random))
        #expect(fresh.matchedRule)
        #expect(fresh.setCookie?.name == "sw")
        let known = try #require(table.route(headers: ["X-Beta": "yes", "Cookie": "sw=12"], random: &random))
        #expect(known.matchedRule)
        #expect(known.setCookie == nil)
    }
}
