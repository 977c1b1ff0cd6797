import Foundation
import SlipwayTestSupport
import Testing

@testable import SlipwayProxy

/// The waiting room in front of real demo app instances: five times the load they can serve, and the order in
/// which a line is let in.
@Suite("Admission: the waiting room under overload, live", .serialized)
struct AdmissionLiveTests {
    /// `slipway-demo-app` instances with `arguments`, stopped by PID however the test ends.
    private static func demoApps(_ count: Int, _ arguments: [String], into servers: UpstreamSet) async throws {
        let directory = try makeTemporaryDirectory("slipway-admission")
        for index in 0..<count {
            let port = try LoopbackHTTP.freePort()
            let pid = try ServerProcess.spawn(
                [BuiltProducts.path("slipway-demo-app"), "--port", String(port), "--version", "1.0.0"] + arguments,
                log: directory + "/demo-\(index).log"
            )
            servers.add(UpstreamProcess(pid: pid, port: port, log: directory + "/demo-\(index).log"))
            try await waitUntil("a demo app on port \(port)", timeout: .seconds(20)) {
                (try? RawConnection(port: port)) != nil
            }
        }
    }

    private static func proxy(_ room: WaitingRoomSettings, routing servers: UpstreamSet) async throws -> LiveProxy {
        let proxy = try await LiveProxy.start(settings: ProxySettings(waitingRoom: room))
        try proxy.route(
            servers.enumerated().map { try $1.instance("shop-\($0 + 1)", version: "1.0.0") },
            version: "1.0.0"
        )
        return proxy
    }

    @Test(.tags(.heavy)) func fiveTimesTheLoadTheInstancesServeKeepsTheAdmittedFastAndRefusesTheRestQuickly()
        async throws
    {
        try await HeavyLoad.exclusive {
            try await self.fiveTimesTheLoadTheInstancesServeKeepsTheAdmittedFastAndRefusesTheRestQuicklyAlone()
        }
    }

    private func fiveTimesTheLoadTheInstancesServeKeepsTheAdmittedFastAndRefusesTheRestQuicklyAlone() async throws {
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        // Two instances at 50 ms a request and two requests in flight each: about 80 requests a second.
        try await Self.demoApps(2, ["--latency", "50ms"], into: servers)
        let room = WaitingRoomSettings(maxInFlightPerInstance: 2, queueSize: 20, queueTimeoutMs: 500)
        let proxy = try await Self.proxy(room, routing: servers)
        let load = LoadClient(port: proxy.port, rate: 400, threads: 100)
        await load.waitFor(1000, timeout: .seconds(30))
        await load.stop()
        let state = try #require(await proxy.listener.sample().waitingRoom)
        try await proxy.stop()

        let all = load.all
        let seconds = all.last!.at - all.first!.at
        let served = all.filter { $0.status == 200 }
        let refused = all.filter { $0.status == 503 }
        let statuses = Set(all.map(\.status))
        #expect(served.count + refused.count == all.count, "every answer is 200 or 503: \(statuses)")
        let withRetryAfter = refused.filter(\.retryAfter).count
        #expect(withRetryAfter == refused.count, "every 503 says when to come back")
        #expect(Double(all.count) / seconds >= 360, "offered \(Double(all.count) / seconds) requests a second")
        let servedRate = Double(served.count) / seconds
        #expect(servedRate >= 50 && servedRate <= 100, "served \(servedRate) a second against a capacity of 80")
        let p99 = load.latency(quantile: 0.99)
        #expect(p99 <= 0.5 + 0.05 + 0.25, "admitted p99 \(p99) s: at most the queue timeout and the work")
        let quick = refused.filter { $0.latency < 0.1 }
        #expect(
            Double(quick.count) >= Double(refused.count) * 0.5,
            "\(quick.count) of \(refused.count) refused at once"
        )
        let late = refused.filter { $0.latency >= 0.5 + 0.25 }.count
        #expect(late == 0, "none refused later than the queue timeout")
        #expect(state.refusedFull > 0 && state.admittedAfterWaiting > 0)
        #expect(state.limit == 4)
    }

    @Test func theLineIsLetInInTheOrderItArrived() async throws {
        let servers = UpstreamSet()
        defer { servers.stopAll() }
        try await Self.demoApps(1, ["--latency", "200ms"], into: servers)
        let room = WaitingRoomSettings(maxInFlight: 1, queueSize: 10, queueTimeoutMs: 10_000)
        let proxy = try await Self.proxy(room, routing: servers)
        defer { Task { try? await proxy.stop() } }

        // The one slot is taken for a second and more, long enough for the line to form on a busy machine.
        let first = try RawConnection(port: proxy.port)
        first.send("GET /work?ms=1000 HTTP/1.1\r\nHost: shop\r\n\r\n")
        try await Task.sleep(for: .milliseconds(100))
        var line: [RawConnection] = []
        for _ in 0..<4 {
            let connection = try RawConnection(port: proxy.port)
            connection.send("GET / HTTP/1.1\r\nHost: shop\r\n\r\n")
            line.append(connection)
            try await Task.sleep(for: .milliseconds(40))
        }
        #expect(first.readText(until: "}").hasPrefix("HTTP/1.1 200"))
        // The instance numbers the requests to `/` it gets: the line reached it in the order it formed.
        var numbers: [Int] = []
        for connection in line {
            let response = connection.readText(until: "}")
            #expect(response.hasPrefix("HTTP/1.1 200"), "\(response)")
            numbers.append(Self.requestNumber(in: response) ?? -1)
        }
        #expect(numbers == numbers.sorted() && Set(numbers).count == 4, "\(numbers)")
        let state = try #require(await proxy.listener.sample().waitingRoom)
        #expect(state.admittedAfterWaiting == 4)
    }

    private static func requestNumber(in response: String) -> Int? {
        guard let range = response.range(of: "\"request\":") else { return nil }
        return Int(response[range.upperBound...].prefix { $0.isNumber })
    }
}
