import Foundation
import NIOPosix
import SlipwayCore
import SlipwayProxy
import SlipwayStore
import Synchronization
import Testing

@testable import SlipwayServer

/// The chaos desk against a real in-process data plane and an in-memory event log, with the wall clock in hand.
@Suite struct ChaosFaultsTests {
    /// A data plane with the listeners `shop` and `cart`, a log, and a clock that moves when told.
    final class Bench: Sendable {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dataPlane: DataPlane
        let log = EventLog()
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

        init() async throws {
            dataPlane = DataPlane(group: group, stateFile: nil)
            for app in ["shop", "cart"] {
                _ = try await dataPlane.open(app, ListenerSpec(host: "127.0.0.1", port: 0, settings: ProxySettings()))
            }
        }

        func desk() throws -> ChaosFaults {
            let log = self.log
            let dataPlane = self.dataPlane
            return try ChaosFaults(
                apps: ["shop", "cart"],
                log: log,
                record: { try? log.append([$0], at: self.now.withLock { $0 }).last },
                router: { dataPlane },
                wallClock: { self.now.withLock { $0 } }
            )
        }

        func advance(_ seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }

        func kinds() throws -> [String] {
            try log.events(kinds: ChaosLedger.kinds).map { "\($0.app):\($0.kind.rawValue)" }
        }

        func stop() async throws {
            await dataPlane.shutdown(within: .seconds(1))
            try await group.shutdownGracefully()
        }
    }

    private static func request(_ kind: FaultSpec.Kind = .abort, seconds: Int = 60, max: Int? = nil) -> FaultRequest {
        var fault = FaultSpec(id: "new", kind: kind, status: kind == .abort ? 503 : nil, share: 1_000, expiresAtMs: 0)
        fault.maxRequests = max
        return FaultRequest(fault: fault, duration: .seconds(seconds), by: "ana", reason: "game day")
    }

    @Test func aFaultIsRecordedThenAppliedAndItsRemovalToo() async throws {
        let bench = try await Bench()
        let desk = try bench.desk()
        let added = try await desk.addFault(app: "shop", Self.request())
        #expect(added.id == "f1")
        #expect(added.by == "ana" && added.reason == "game day")
        #expect(added.expiresAt == bench.now.withLock { $0 }.addingTimeInterval(60))
        #expect(try await bench.dataPlane.faults("shop").map(\.spec.id) == ["f1"])
        #expect(try await bench.dataPlane.faults("cart").isEmpty)
        let second = try await desk.addFault(app: "cart", Self.request(.reset))
        #expect(second.id == "f2")
        #expect(await desk.chaosStatus().faults.map(\.id) == ["f1", "f2"])

        let removed = try await desk.removeFault(app: "shop", id: "f1", by: "bo")
        #expect(removed.id == "f1")
        #expect(try await bench.dataPlane.faults("shop").isEmpty)
        await #expect(throws: CommandRefusal.self) { try await desk.removeFault(app: "shop", id: "f1", by: "bo") }
        await #expect(throws: CommandRefusal.self) { try await desk.addFault(app: "nope", Self.request()) }
        #expect(try bench.kinds() == ["shop:faultAdded", "cart:faultAdded", "shop:faultRemoved"])
        let removal = try #require(try bench.log.events(kinds: [.faultRemoved]).first)
        #expect(removal.fields["by"] == "bo" && removal.fields["reason"] == "removed")
        try await bench.stop()
    }

    @Test func aStopRemovesEveryFaultAndRefusesNewOnesUntilReleased() async throws {
        let bench = try await Bench()
        let desk = try bench.desk()
        _ = try await desk.addFault(app: "shop", Self.request())
        _ = try await desk.addFault(app: "cart", Self.request(.reset))
        let stopped = try await desk.stopChaos(by: "oncall", reason: "checkout is down")
        #expect(stopped.faults.isEmpty)
        #expect(stopped.stopped?.by == "oncall" && stopped.stopped?.reason == "checkout is down")
        #expect(try await bench.dataPlane.faults("shop").isEmpty)
        #expect(try await bench.dataPlane.faults("cart").isEmpty)
        await #expect {
            try await desk.addFault(app: "shop", Self.request())
        } throws: { error in
            (error as? CommandRefusal)?.code == .conflict
                && (error as? CommandRefusal)?.message.contains("chaos is stopped (by oncall: checkout is down)")
                    == true
        }
        // A desk folded anew from the log (a restarted controller) is stopped too.
        #expect(await (try bench.desk()).chaosStatus().stopped?.by == "oncall")
        let released = try await desk.releaseChaos(by: "oncall")
        #expect(released.stopped == nil)
        #expect(try await desk.addFault(app: "shop", Self.request()).id == "f3")
        try await bench.stop()
    }

    @Test func expiredAndExhaustedFaultsAreRecordedAsEndedAndARestartedDeskSetsWhatIsInForce() async throws {
        let bench = try await Bench()
        let desk = try bench.desk()
        _ = try await desk.addFault(app: "shop", Self.request(seconds: 10))
        _ = try await desk.addFault(app: "shop", Self.request(seconds: 60))
        bench.advance(11)
        await desk.reconcile()
        let ended = try bench.log.events(kinds: [.faultRemoved])
        #expect(ended.map { $0.fields["id"] } == ["f1"])
        #expect(ended.first?.fields["reason"] == "expired")
        #expect(try await bench.dataPlane.faults("shop").map(\.spec.id) == ["f2"])

        // The data plane forgets everything (a new one); a desk folded from the log sets f2 again.
        try await bench.dataPlane.setFaults("shop", [])
        let restarted = try bench.desk()
        await restarted.reconcile()
        #expect(try await bench.dataPlane.faults("shop").map(\.spec.id) == ["f2"])
        #expect(await restarted.chaosStatus().faults.map(\.id) == ["f2"])
        try await bench.stop()
    }

    @Test func aRunningExperimentIsRecordedOnceShownWhileItReportsAndGoneAtItsEnd() async throws {
        let bench = try await Bench()
        let desk = try bench.desk()
        for _ in 0..<3 {
            try await desk.experimentRunning(id: "run-1", title: "game day", by: "ana", apps: ["shop"])
            bench.advance(15)
        }
        #expect(try bench.kinds() == ["shop:chaosExperimentStarted"])
        #expect(await desk.chaosStatus().experiments.map(\.title) == ["game day"])
        // A restarted desk knows it from the log, and shows it until it has been silent for a minute.
        let restarted = try bench.desk()
        #expect(await restarted.runningExperiments().map(\.id) == ["run-1"])
        bench.advance(60)
        #expect(await restarted.runningExperiments().isEmpty)
        // Its end takes it away for good.
        try await restarted.experimentRunning(id: "run-1", title: "game day", by: "ana", apps: ["shop"])
        #expect(await restarted.runningExperiments().map(\.id) == ["run-1"])
        try await restarted.recordEvent(
            Event(app: "shop", kind: .chaosExperimentRan, fields: ["id": "run-1", "status": "completed"])
        )
        #expect(await restarted.runningExperiments().isEmpty)
        #expect(try await bench.desk().runningExperiments().isEmpty)
        try await bench.stop()
    }
}
