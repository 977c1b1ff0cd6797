import NIOCore
import SlipwayHTTP1
import Testing

@testable import SlipwayProxy

/// Which requests a fault applies to, how it is checked, and how a bandwidth fault releases bytes: without sockets.
@Suite struct FaultSetTests {
    private static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private static func head(
        _ method: String,
        _ target: String,
        headers: [(String, String)] = []
    ) throws
        -> RequestHead
    {
        let text =
            "\(method) \(target) HTTP/1.1\r\nHost: shop\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n"
        var parser = RequestHeadParser()
        var buffer = ByteBuffer(string: text)
        guard case .head(let head) = parser.parse(&buffer) else { throw FaultSpecError("not parsed: \(text)") }
        return head
    }

    private static func fault(_ configure: (inout FaultSpec) -> Void) throws -> ProxyFault {
        var spec = FaultSpec(id: "f", kind: .abort, status: 503, share: 10_000, expiresAtMs: 2_000)
        configure(&spec)
        return try ProxyFault(spec, wallNowMs: 1_000, now: now)
    }

    @Test func matchesByPathPrefixMethodHeaderAndVersion() throws {
        let fault = try Self.fault {
            $0.pathPrefix = "/api/"
            $0.method = "POST"
            $0.header = .init(name: "x-beta", value: "1")
            $0.version = "2.0"
        }
        let matching = try Self.head("POST", "/api/cart?x=1", headers: [("X-Beta", "1")])
        #expect(fault.matches(matching, version: "2.0"))
        #expect(!fault.matches(matching, version: "1.0"))
        #expect(!fault.matches(try Self.head("GET", "/api/cart", headers: [("X-Beta", "1")]), version: "2.0"))
        #expect(!fault.matches(try Self.head("POST", "/apix", headers: [("X-Beta", "1")]), version: "2.0"))
        #expect(!fault.matches(try Self.head("POST", "/api/cart", headers: [("X-Beta", "2")]), version: "2.0"))
        #expect(!fault.matches(try Self.head("POST", "/api/cart"), version: "2.0"))
    }

    @Test func drawsItsShareAndStopsAtItsBoundAndItsDeadline() throws {
        let share = try Self.fault { $0.share = 2_500 }
        var random = RoutingSplitMix64(seed: 7)
        let head = try Self.head("GET", "/")
        let set = FaultSet([share])
        let hits = (0..<40_000).filter { _ in set.draw(for: head, version: "1.0", now: Self.now, random: &random) != nil
        }
        #expect(abs(hits.count - 10_000) < 400, "\(hits.count) of 40000 at 25%")

        let bounded = FaultSet([try Self.fault { $0.maxRequests = 3 }])
        let drawn = (0..<10).compactMap { _ in bounded.draw(for: head, version: nil, now: Self.now, random: &random) }
        #expect(drawn.count == 3)
        #expect(bounded.faults[0].affected.load(ordering: .relaxed) == 3)
        #expect(!bounded.faults[0].isActive(at: Self.now))

        // Expires one second after `now` (2000 ms against a wall clock at 1000 ms).
        let timed = FaultSet([try Self.fault { _ in }])
        #expect(timed.draw(for: head, version: nil, now: Self.now + .milliseconds(999), random: &random) != nil)
        #expect(timed.draw(for: head, version: nil, now: Self.now + .milliseconds(1_000), random: &random) == nil)
    }

    @Test func theFirstMatchingFaultAppliesAndTheNextOnlyWhenItDoesNot() throws {
        let first = try Self.fault {
            $0.id = "a"
            $0.pathPrefix = "/a"
        }
        let second = try Self.fault {
            $0.id = "b"
            $0.status = 500
        }
        var random = RoutingSplitMix64(seed: 1)
        let set = FaultSet([first, second])
        #expect(set.draw(for: try Self.head("GET", "/a/1"), version: nil, now: Self.now, random: &random) === first)
        #expect(set.draw(for: try Self.head("GET", "/b/1"), version: nil, now: Self.now, random: &random) === second)
    }

    @Test func refusesAnIncoherentFaultNamingTheField() {
        let base = FaultSpec(id: "f", kind: .abort, status: 503, share: 100, expiresAtMs: 1)
        func problem(_ configure: (inout FaultSpec) -> Void) -> String? {
            var spec = base
            configure(&spec)
            do {
                try spec.validate()
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem { _ in } == nil)
        #expect(problem { $0.status = 200 }?.hasPrefix("status: 200 is not an error status") == true)
        #expect(problem { $0.status = nil }?.hasPrefix("status:") == true)
        #expect(problem { $0.share = 0 }?.hasPrefix("share: 0 is out of range") == true)
        #expect(problem { $0.share = 10_001 }?.hasPrefix("share:") == true)
        #expect(problem { $0.delayMs = 5 } == "delayMs: does not apply to a fault of kind abort")
        #expect(
            problem {
                $0.kind = .delay
                $0.status = nil
            }?.hasPrefix("delayMs: a delay needs") == true
        )
        #expect(
            problem {
                $0.kind = .bandwidth
                $0.status = nil
                $0.bytesPerSecond = 0
            }?.hasPrefix("bytesPerSecond") == true
        )
        #expect(problem { $0.pathPrefix = "api" }?.hasPrefix("pathPrefix:") == true)
        #expect(problem { $0.method = "get" }?.hasPrefix("method:") == true)
        #expect(problem { $0.header = .init(name: "a b", value: "1") }?.hasPrefix("header.name:") == true)
        #expect(problem { $0.maxRequests = 0 }?.hasPrefix("maxRequests:") == true)
        #expect(problem { $0.id = "no spaces" }?.hasPrefix("id:") == true)
        #expect(base.summary == "abort 503 on 1% of requests")
    }

    @Test func aThrottleReleasesItsRateWithoutBursts() {
        let start = NIODeadline.uptimeNanoseconds(0)
        let throttle = ResponseThrottle(bytesPerSecond: 1_000, now: start)
        throttle.enqueue(ByteBuffer(repeating: 1, count: 700))
        throttle.enqueue(ByteBuffer(repeating: 2, count: 700))
        // A long wait gives no more than a tenth of a second's worth.
        var out = throttle.release(at: start + .seconds(10))
        #expect(out.map(\.readableBytes) == [100])
        out = throttle.release(at: start + .seconds(10) + .milliseconds(50))
        #expect(out.map(\.readableBytes) == [50])
        var total = 150
        var now = start + .seconds(10) + .milliseconds(50)
        var steps = 0
        while !throttle.isEmpty, steps < 1_000 {
            now = now + .milliseconds(20)
            total += throttle.release(at: now).reduce(0) { $0 + $1.readableBytes }
            steps += 1
        }
        #expect(total == 1_400)
        // 1250 bytes after the first 150, at 1000 B/s: 1.25 s in 20 ms ticks.
        #expect(steps == 63)
    }
}
