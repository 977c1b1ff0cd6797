import NIOCore
import Testing

@testable import SlipwayProxy

@Suite("Routing: upstream instances")
struct RoutingUpstreamInstanceTests {
    @Test("The address is resolved from an IP literal")
    func address() throws {
        let v4 = try UpstreamInstance(id: "shop-3", version: "1.4.0", host: "127.0.0.1", port: 8081)
        #expect(v4.address == (try SocketAddress(ipAddress: "127.0.0.1", port: 8081)))
        #expect(v4.address.port == 8081)
        let v6 = try UpstreamInstance(id: "shop-4", version: "1.4.0", host: "::1", port: 8082)
        #expect(v6.address.protocol == .inet6)
    }

    @Test("A host name is refused", arguments: ["localhost", "example.com", ""])
    func hostNameRefused(host: String) {
        #expect(throws: (any Error).self) {
            try UpstreamInstance(id: "shop-1", version: "1.4.0", host: host, port: 8080)
        }
    }

    @Test("Weight starts full and is clamped to 0...1000")
    func weightClamped() throws {
        let instance = try UpstreamInstance(id: "shop-1", version: "1.4.0", host: "127.0.0.1", port: 8080)
        #expect(instance.weight == 1000)
        instance.setWeight(250)
        #expect(instance.weight == 250)
        instance.setWeight(-5)
        #expect(instance.weight == 0)
        instance.setWeight(5000)
        #expect(instance.weight == 1000)
    }

    @Test("In-flight counts stay exact under concurrent requests")
    func inFlightConcurrent() async throws {
        let instance = try UpstreamInstance(id: "shop-1", version: "1.4.0", host: "127.0.0.1", port: 8080)
        #expect(instance.inFlight == 0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<10_000 {
                        instance.requestStarted()
                        instance.requestFinished()
                    }
                    for _ in 0..<100 {
                        instance.requestStarted()
                    }
                }
            }
        }
        #expect(instance.inFlight == 800)
    }
}
