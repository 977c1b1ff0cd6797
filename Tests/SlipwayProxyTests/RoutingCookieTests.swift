import NIOHTTP1
import Testing

@testable import SlipwayProxy

@Suite("Routing: stickiness cookie")
struct RoutingCookieTests {
    private let table: RouteTable

    init() throws {
        table = try RouteTable(
            versions: [
                RoutingFixtures.version("candidate", weight: 500),
                RoutingFixtures.version("stable", weight: 9500),
            ],
            stickiness: .cookie(name: "sw")
        )
    }

    @Test("A request without the cookie is given a bucket, and that bucket decides")
    func missingCookieIsSet() throws {
        var random = RoutingSplitMix64(seed: 21)
        var buckets: Set<Int> = []
        for _ in 0..<2000 {
            let decision = try #require(table.route(headers: ["Host": "shop"], random: &random))
            let setCookie = try #require(decision.setCookie)
            #expect(setCookie.name == "sw")
            #expect((0..<10000).contains(setCookie.bucket))
            #expect(decision.versionIndex == (setCookie.bucket < 500 ? 0 : 1), "bucket \(setCookie.bucket)")
            buckets.insert(setCookie.bucket)
        }
        #expect(buckets.count > 1500, "buckets are not drawn at random: \(buckets.count) distinct")
    }

    @Test("A valid cookie decides the version and is left alone", arguments: [(300, 0), (499, 0), (500, 1), (9999, 1)])
    func validCookie(bucket: Int, versionIndex: Int) throws {
        var random = RoutingSplitMix64(seed: 22)
        for _ in 0..<100 {
            let decision = try #require(table.route(headers: ["Cookie": "sw=\(bucket)"], random: &random))
            #expect(decision.setCookie == nil)
            #expect(decision.versionIndex == versionIndex)
        }
    }

    @Test(
        "An invalid cookie value is replaced",
        arguments: ["abc", "10000", "-1", "", "12a", "+5", "1 2", "99999999999999999999"]
    )
    func invalidCookie(value: String) throws {
        var random = RoutingSplitMix64(seed: 23)
        let decision = try #require(table.route(headers: ["Cookie": "sw=\(value)"], random: &random))
        let setCookie = try #require(decision.setCookie, "value '\(value)' was accepted")
        #expect((0..<10000).contains(setCookie.bucket))
        #expect(decision.versionIndex == (setCookie.bucket < 500 ? 0 : 1))
    }

    @Test("The cookie is found among others, in any Cookie field, with spaces around it")
    func cookieAmongOthers() throws {
        var random = RoutingSplitMix64(seed: 24)
        let cases: [HTTPHeaders] = [
            ["Cookie": "theme=dark; sw=300; lang=en"],
            ["cookie": "theme=dark;sw=300"],
            ["Cookie": "  sw = 300  ; theme=dark"],
            ["Cookie": "theme=dark", "COOKIE": "sw=300"],
            ["Cookie": "xsw=9000; sw=300; swx=9000"],
        ]
        for headers in cases {
            let decision = try #require(table.route(headers: headers, random: &random))
            #expect(decision.setCookie == nil, "\(headers)")
            #expect(decision.versionIndex == 0, "\(headers)")
        }
    }

    @Test("A cookie whose name only contains the sticky name does not count")
    func similarNames() throws {
        var random = RoutingSplitMix64(seed: 25)
        for header in ["xsw=300", "swx=300", "SW=300", "sw", "theme=sw=300"] {
            let decision = try #require(table.route(headers: ["Cookie": header], random: &random))
            #expect(decision.setCookie != nil, "'\(header)' was read as the sticky cookie")
        }
    }

    @Test("Cookie values are read exactly")
    func scanner() {
        #expect(Self.cookie("a", in: "a=1; b=2") == "1")
        #expect(Self.cookie("b", in: "a=1; b=2") == "2")
        #expect(Self.cookie("b", in: "a=1;b=") == "")
        #expect(Self.cookie("c", in: "a=1; b=2") == nil)
        #expect(Self.cookie("a", in: "a=1; a=2") == "1")
        #expect(Self.cookie("a", in: ";;a=x=y;") == "x=y")
        #expect(Self.cookie("a", in: "") == nil)
        #expect(Self.cookie("caf\u{E9}", in: "caf\u{E9}=\u{1F600}") == "\u{1F600}")
        let headers: HTTPHeaders = ["Cookie": "a=1", "Cookie": "b=2; c=3"]
        #expect(RoutingCookies.value(named: "c", in: headers) { String(decoding: $0, as: UTF8.self) } == "3")
        #expect(RoutingCookies.value(named: "d", in: headers) { _ in true } == nil)
    }

    @Test("Bucket cookie values are decimal integers in 0...9999")
    func bucketValues() {
        #expect(Self.bucket("0") == 0)
        #expect(Self.bucket("9999") == 9999)
        #expect(Self.bucket("0042") == 42)
        #expect(Self.bucket("10000") == nil)
        #expect(Self.bucket("") == nil)
        #expect(Self.bucket("4a") == nil)
        #expect(Self.bucket("\u{0664}") == nil)
    }

    private static func cookie(_ name: String, in field: String) -> String? {
        RoutingBytes.of(name) { name in
            RoutingBytes.of(field) { field in
                RoutingCookies.valueRange(named: name, inField: field).map {
                    String(decoding: UnsafeBufferPointer(rebasing: field[$0]), as: UTF8.self)
                }
            }
        }
    }

    private static func bucket(_ value: String) -> Int? {
        RoutingBytes.of(value) { TrafficBucket.parse($0) }
    }
}
