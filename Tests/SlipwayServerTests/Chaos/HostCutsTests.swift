import Foundation
import SlipwayCore
import SlipwayPlatform
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayServer
@testable import SlipwayStore

/// Host cuts with the hosts' side stood in for: what is recorded, what is frozen and cut off, in which order, and how
/// a cut ends (on time, after a restart, on a stop, when the host does not answer). The SSH side is
/// `HostsChaosCutTests`'.
@Suite struct HostCutsTests {
    /// A log, and the calls the cuts made.
    final class Bench: Sendable {
        let log = EventLog()
        let calls = Mutex<[String]>([])
        /// How many thaws fail before one succeeds, by host.
        let failingThaws = Mutex<[String: Int]>([:])
        let failingFreezes = Mutex<Set<String>>([])
        let chaosStopped = Mutex(false)

        func cuts() -> HostCuts {
            HostCuts(
                placement: ["shop": ["h1", "h2"], "cart": ["h2"]],
                record: { [log] event in try? log.append([event]).last },
                freeze: { host, freeze in
                    self.calls.withLock { $0.append("\(freeze ? "freeze" : "thaw") \(host)") }
                    if freeze, self.failingFreezes.withLock({ $0.contains(host) }) {
                        return .failure(HostFreezeError(description: "SSH could not connect: no route to host"))
                    }
                    if !freeze {
                        let failing = self.failingThaws.withLock { left -> Bool in
                            guard let count = left[host], count > 0 else { return false }
                            left[host] = count - 1
                            return true
                        }
                        if failing { return .failure(HostFreezeError(description: "no answer in time")) }
                    }
                    return .success(3)
                },
                cutOff: { host, reason in
                    self.calls.withLock { $0.append(reason.map { "cut \(host): \($0)" } ?? "reach \(host)") }
                },
                chaosStopped: { self.chaosStopped.withLock { $0 } },
                retryPause: .milliseconds(20)
            )
        }

        func events(_ kind: EventKind) throws -> [RecordedEvent] {
            try log.events(kinds: [kind])
        }

        func waitForRestored(_ count: Int) async throws {
            try await waitUntil("\(count) chaosHostRestored", timeout: .seconds(10)) {
                try self.events(.chaosHostRestored).count >= count
            }
        }
    }

    @Test func aCutIsRecordedForEachAppThenFreezesAndCutsOffAndEndsOnTime() async throws {
        let bench = Bench()
        let cuts = bench.cuts()
        let cut = try await cuts.cut(host: "h2", CutRequest(duration: .milliseconds(300), by: "ana", reason: "drill"))
        #expect(cut.apps == ["cart", "shop"] && cut.frozen == 3 && cut.durationMs == 300 && cut.by == "ana")
        let recorded = try bench.events(.chaosHostCut)
        #expect(recorded.map(\.app) == ["cart", "shop"])
        #expect(recorded.allSatisfy { $0.fields["host"] == "h2" && $0.fields["reason"] == "drill" })
        let during = bench.calls.withLock { $0 }
        #expect(during.count == 2 && during[0] == "freeze h2", "\(during)")
        #expect(during.last?.hasPrefix("cut h2: cut off by chaos until ") == true, "\(during)")
        #expect(await cuts.views().map(\.host) == ["h2"])

        try await bench.waitForRestored(2)
        #expect(Array(bench.calls.withLock { $0 }.dropFirst(2)) == ["thaw h2", "reach h2"])
        let restored = try bench.events(.chaosHostRestored)
        #expect(restored.map(\.app) == ["cart", "shop"])
        #expect(restored.allSatisfy { $0.fields["reason"] == "its time was up" && $0.fields["thawed"] == 3 })
        // Never before its time.
        let cutFor = try #require(restored.first?.fields["cutForMs"]?.intValue)
        #expect(cutFor >= 300, "\(cutFor)")
        #expect(await cuts.views().isEmpty)
    }

    @Test func anUnknownHostASecondCutAndAHostThatCannotBeReachedAreRefusedAndCutNothing() async throws {
        let bench = Bench()
        let cuts = bench.cuts()
        let request = CutRequest(duration: .seconds(60), by: "ana", reason: nil)
        await #expect(throws: CommandRefusal(.notFound, "no app runs on a host named \"h9\" (hosts: h1, h2)")) {
            try await cuts.cut(host: "h9", request)
        }
        #expect(try bench.events(.chaosHostCut).isEmpty && bench.calls.withLock { $0 }.isEmpty)
        bench.chaosStopped.withLock { $0 = true }
        await #expect(
            throws: CommandRefusal(.conflict, "chaos is stopped; `slipway chaos release` allows cuts again")
        ) { try await cuts.cut(host: "h1", request) }
        #expect(try bench.events(.chaosHostCut).isEmpty && bench.calls.withLock { $0 }.isEmpty)
        bench.chaosStopped.withLock { $0 = false }

        _ = try await cuts.cut(host: "h1", request)
        let refusal = await #expect(throws: CommandRefusal.self) { try await cuts.cut(host: "h1", request) }
        #expect(refusal?.code == .conflict && refusal?.message.contains("h1 is cut off already") == true)
        #expect(try bench.events(.chaosHostCut).count == 1)

        // The host stops answering while it is being frozen: whatever was frozen is let go, and nothing is cut off.
        bench.failingFreezes.withLock { _ = $0.insert("h2") }
        bench.calls.withLock { $0 = [] }
        let unreachable = await #expect(throws: CommandRefusal.self) { try await cuts.cut(host: "h2", request) }
        #expect(unreachable?.code == .conflict && unreachable?.message.contains("no route to host") == true)
        #expect(bench.calls.withLock { $0 } == ["freeze h2", "thaw h2"])
        let restored = try bench.events(.chaosHostRestored)
        #expect(restored.count == 2 && restored.allSatisfy { $0.fields["problem"]?.stringValue != nil })
        #expect(await cuts.views().map(\.host) == ["h1"])
    }

    @Test func aThawTheHostDoesNotAnswerIsTriedAgainAndTheControllerReachesItOnlyOnceItIsLetGo() async throws {
        let bench = Bench()
        bench.failingThaws.withLock { $0["h1"] = 2 }
        let cuts = bench.cuts()
        _ = try await cuts.cut(host: "h1", CutRequest(duration: .milliseconds(50), by: "ana", reason: nil))
        try await bench.waitForRestored(1)
        #expect(bench.calls.withLock { $0 }.dropFirst(2) == ["thaw h1", "thaw h1", "thaw h1", "reach h1"])
        #expect(try bench.events(.chaosHostRestored).count == 1)
    }

    @Test func aRestartedControllerHoldsAnOpenCutThenEndsItOnTimeOrAtOnceWhenChaosStops() async throws {
        let bench = Bench()
        // An earlier controller cut both hosts off and was gone before letting them go (and a cut before those ended).
        for (host, apps, milliseconds) in [("h2", ["cart", "shop"], 100), ("h2", ["cart", "shop"], 600_000)] {
            for app in apps {
                let fields: [String: JSONValue] = [
                    "host": .string(host), "durationMs": .int(milliseconds), "by": "ana",
                ]
                _ = try bench.log.append([Event(app: app, kind: .chaosHostCut, fields: fields)])
            }
            if milliseconds == 100 {
                for app in apps {
                    _ = try bench.log.append([Event(app: app, kind: .chaosHostRestored, fields: ["host": "h2"])])
                }
            }
        }
        _ = try bench.log.append([
            Event(app: "shop", kind: .chaosHostCut, fields: ["host": "h1", "durationMs": 200, "by": "ana"])
        ])
        let after = bench.cuts()
        await after.recover(from: bench.log)
        let held = bench.calls.withLock { $0 }
        #expect(held.count == 2 && held.allSatisfy { $0.contains(": cut off by chaos until ") }, "\(held)")
        #expect(await after.views().map(\.host) == ["h1", "h2"])
        #expect(await after.views().last?.apps == ["cart", "shop"])

        try await bench.waitForRestored(3)
        #expect(try bench.events(.chaosHostRestored).dropFirst(2).map { $0.fields["host"] } == ["h1"])
        #expect(await after.endAll(because: "chaos was stopped by ana") == ["h2"])
        try await bench.waitForRestored(5)
        let stopped = try bench.events(.chaosHostRestored).dropFirst(3)
        #expect(stopped.allSatisfy { $0.fields["host"] == "h2" && $0.fields["reason"] == "chaos was stopped by ana" })
        #expect(await after.views().isEmpty)
    }

    @Test func theControllerStoppingLetsEveryHostGoOnceAndLeavesOneThatDoesNotAnswerToTheNext() async throws {
        let bench = Bench()
        let cuts = bench.cuts()
        let request = CutRequest(duration: .seconds(600), by: "ana", reason: nil)
        _ = try await cuts.cut(host: "h1", request)
        _ = try await cuts.cut(host: "h2", request)
        bench.failingThaws.withLock { $0["h1"] = 1 }
        await cuts.restoreAll()
        let restored = try bench.events(.chaosHostRestored)
        #expect(restored.count == 2 && restored.allSatisfy { $0.fields["host"] == "h2" })
        #expect(restored.allSatisfy { $0.fields["reason"] == "the controller is stopping" })
        await #expect(throws: CommandRefusal.self) { try await cuts.cut(host: "h2", request) }

        let next = bench.cuts()
        await next.recover(from: bench.log)
        #expect(await next.views().map(\.host) == ["h1"])
        await next.restoreAll()
    }
}
