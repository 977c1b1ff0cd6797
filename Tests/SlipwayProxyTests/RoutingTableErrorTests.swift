import Foundation
import Testing

@testable import SlipwayProxy

@Suite("Routing: table validation")
struct RoutingTableErrorTests {
    private static func error(_ build: () throws -> RouteTable) -> RouteTableError? {
        do {
            _ = try build()
            return nil
        } catch let error as RouteTableError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("Weights must add up to 10000")
    func weightsSum() throws {
        let error = Self.error {
            try RouteTable(versions: [
                RoutingFixtures.version("a", weight: 500),
                RoutingFixtures.version("b", weight: 9000),
            ])
        }
        #expect(error == .weightsDoNotSum(total: 9500))
        #expect(error?.description.contains("9500") == true)
        #expect(error?.description.contains("10000") == true)
        #expect(Self.error { try RouteTable(versions: [RoutingFixtures.version("a", weight: 10000)]) } == nil)
        #expect(Self.error { try RouteTable(versions: []) } == nil)
    }

    @Test("Each weight must be within 0...10000", arguments: [-1, 10001])
    func weightRange(weight: Int) throws {
        let error = Self.error {
            try RouteTable(versions: [
                RoutingFixtures.version("a", weight: weight),
                RoutingFixtures.version("b", weight: 10000 - weight),
            ])
        }
        #expect(error == .weightOutOfRange(version: "a", weight: weight))
        #expect(error?.description.contains("'a'") == true)
    }

    @Test("Version names are unique")
    func duplicateVersion() throws {
        let error = Self.error {
            try RouteTable(versions: [
                RoutingFixtures.version("1.4.0", weight: 5000),
                RoutingFixtures.version("1.4.0", weight: 5000),
            ])
        }
        #expect(error == .duplicateVersion("1.4.0"))
        #expect(error?.description == "version '1.4.0' appears more than once")
    }

    @Test("Rules name known versions")
    func unknownRuleVersion() throws {
        let error = Self.error {
            try RouteTable(
                versions: [RoutingFixtures.version("1.4.0", weight: 10000)],
                rules: [
                    MatchRule(condition: .headerEquals(name: "X-Beta", value: "1"), version: "1.4.0"),
                    MatchRule(condition: .cookieEquals(name: "beta", value: "1"), version: "1.5.0"),
                ]
            )
        }
        #expect(error == .unknownRuleVersion(ruleIndex: 1, version: "1.5.0"))
        #expect(error?.description == "rule 2 sends requests to version '1.5.0', which is not in the table")
    }

    @Test("Rule patterns must compile")
    func badRegex() throws {
        let error = Self.error {
            try RouteTable(
                versions: [RoutingFixtures.version("1.4.0", weight: 10000)],
                rules: [MatchRule(condition: .headerMatches(name: "X-User", pattern: "(alice"), version: "1.4.0")]
            )
        }
        guard case .invalidPattern(let ruleIndex, let pattern, let reason) = error else {
            Issue.record("expected an invalid pattern, got \(String(describing: error))")
            return
        }
        #expect(ruleIndex == 0)
        #expect(pattern == "(alice")
        #expect(!reason.isEmpty)
        #expect(error?.description.hasPrefix("rule 1 has an invalid regular expression '(alice': ") == true)
    }

    @Test("The sticky cookie name must be writable in Set-Cookie", arguments: ["", "a b", "a=b", "a;b", "caf\u{E9}"])
    func cookieName(name: String) throws {
        let error = Self.error {
            try RouteTable(versions: [RoutingFixtures.version("a", weight: 10000)], stickiness: .cookie(name: name))
        }
        #expect(error == .invalidCookieName(name))
    }

    @Test("A valid table keeps what it was given")
    func keepsInput() throws {
        let rules = [MatchRule(condition: .headerMatches(name: "X-User", pattern: ".*@corp"), version: "b")]
        let table = try RouteTable(
            versions: [RoutingFixtures.version("a", weight: 9000), RoutingFixtures.version("b", weight: 1000)],
            rules: rules,
            stickiness: .cookie(name: "slipway_bucket")
        )
        #expect(table.versions.map(\.version) == ["a", "b"])
        #expect(table.versions.map(\.weight) == [9000, 1000])
        #expect(table.rules == rules)
        #expect(table.stickiness == .cookie(name: "slipway_bucket"))
    }
}

@Suite struct RoutingMirrorTableTests {
    @Test func aMirrorMustNameAVersionOfTheTableAndAShareAbove0() throws {
        let versions = [
            VersionRoute(version: "1.0", weight: 10_000, instances: []),
            VersionRoute(version: "2.0", weight: 0, instances: []),
        ]
        #expect(throws: RouteTableError.unknownMirrorVersion("3.0")) {
            try RouteTable(versions: versions, mirror: TrafficMirror(version: "3.0", share: 100))
        }
        #expect(throws: RouteTableError.invalidMirror("share 0 is outside 1...10000 basis points")) {
            try RouteTable(versions: versions, mirror: TrafficMirror(version: "2.0", share: 0))
        }
        let table = try RouteTable(versions: versions, mirror: TrafficMirror(version: "2.0", share: 2_500))
        #expect(table.mirror?.version == "2.0")
        #expect(table.mirrorIndex == 1)
        #expect(
            RouteTableError.unknownMirrorVersion("3.0").description
                == "the mirror copies requests to version '3.0', which is not in the table"
        )
    }

    @Test func aRouteSpecCarriesItsMirrorToTheTableAndToDisk() throws {
        let spec = RouteSpec(
            versions: [RouteSpec.Version(version: "1.0", weight: 10_000, instances: [])],
            mirror: RouteSpec.Mirror(version: "1.0", share: 500, methods: ["get"], maxBodyBytes: 0)
        )
        let decoded = try JSONDecoder().decode(RouteSpec.self, from: try JSONEncoder().encode(spec))
        #expect(decoded == spec)
        #expect(
            decoded.mirror?.tableMirror == TrafficMirror(version: "1.0", share: 500, methods: ["GET"], maxBodyBytes: 0)
        )
        // A spec written before mirrors has none.
        let old = try JSONDecoder().decode(RouteSpec.self, from: Data(#"{"versions":[],"rules":[]}"#.utf8))
        #expect(old.mirror == nil)
    }
}
