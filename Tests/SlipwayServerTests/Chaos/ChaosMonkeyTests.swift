import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayServer
@testable import SlipwayStore

/// The monkey's executor with the clock, the app's status and the signals in hand: what it records, in which
/// order, and what it signals.
@Suite struct ChaosMonkeyTests {
    /// Monday 2026-12-07 10:00 in Paris.
    static let mondayTen = Date(timeIntervalSince1970: 1_796_598_000 + 10 * 3600)

    final class Bench: Sendable {
        let log = EventLog()
        let signals = Mutex<[(InstanceID, Int32)]>([])
        let now = Mutex(ChaosMonkeyTests.mondayTen)
        let rollout = Mutex(false)

        func status(_ app: String) -> AppStatus {
            var status = AppStatus(app: app)
            status.version = "1.0.0"
            status.desiredInstances = 3
            status.instances = (1...3).map {
                AppStatus.Instance(
                    id: InstanceID(app: app, number: $0),
                    version: "1.0.0",
                    state: .healthy,
                    since: Self.epoch
                )
            }
            if rollout.withLock({ $0 }) {
                let started = RecordedEvent(
                    id: 1,
                    time: Self.epoch,
                    event: Event(
                        app: app,
                        kind: .rolloutStarted,
                        fields: ["rollout": 1, "from": "1.0.0", "to": "2.0.0"]
                    )
                )
                status.rollout = RolloutRecord(started: started)
            }
            return status
        }

        static let epoch = Date(timeIntervalSince1970: 1_796_000_000)

        func monkey(leashed: Bool = false, action: MonkeySpec.Action = .kill) -> ChaosMonkey {
            var spec = MonkeySpec(meanTimeBetweenKillsInWorkDays: 1, action: action, hangFor: .seconds(1))
            spec.leashed = leashed
            spec.schedule = DeployWindowsSpec(
                timeZone: "Europe/Paris",
                allow: [WeeklyRange(days: Set(1...5), from: 9 * 60, to: 15 * 60)]
            )
            let app = AppSpec(
                index: 0,
                name: "shop",
                listen: HostPort(host: "127.0.0.1", port: 1),
                instances: 3,
                version: "1.0.0",
                run: RunSpec(command: ["true"]),
                monkey: spec
            )
            let log = self.log
            let record: @Sendable (Event) -> RecordedEvent? = { event in
                try? log.append([event], at: self.now.withLock { $0 }).last
            }
            let kills = ChaosKills(
                apps: ["shop"],
                record: record,
                status: { self.status($0) },
                signal: { instance, signal in
                    self.signals.withLock { $0.append((instance, signal)) }
                    return true
                },
                wallClock: { self.now.withLock { $0 } }
            )
            return ChaosMonkey(
                apps: [app],
                events: (try? log.events(kinds: ChaosMonkey.kinds)) ?? [],
                record: record,
                status: { self.status($0) },
                kills: kills,
                chaosStopped: { false },
                wallClock: { self.now.withLock { $0 } },
                random: { 0 }
            )
        }

        func kinds() throws -> [String] {
            try log.events(kinds: ChaosMonkey.kinds.union([.chaosHangEnded])).map(\.kind.rawValue)
        }
    }

    @Test func aKillIsPlannedRecordedThenSignalledAndNotRepeatedTheSameDayNorAfterARestart() async throws {
        let bench = Bench()
        let monkey = bench.monkey()
        await monkey.tick()
        #expect(try bench.kinds() == ["monkeyPlanned"])
        await monkey.tick()
        #expect(try bench.kinds() == ["monkeyPlanned", "chaosKill"])
        let kill = try #require(try bench.log.events(kinds: [.chaosKill]).first)
        #expect(kill.fields["source"] == "monkey" && kill.fields["by"] == "chaos monkey")
        #expect(bench.signals.withLock { $0.map(\.1) } == [SIGKILL])
        #expect(bench.signals.withLock { $0.first?.0 } == kill.instance)

        // Later the same day, and a monkey folded anew from the log: nothing more.
        bench.now.withLock { $0 = $0.addingTimeInterval(3600) }
        await monkey.tick()
        let restarted = bench.monkey()
        await restarted.tick()
        #expect(try bench.kinds() == ["monkeyPlanned", "chaosKill"])
        let view = try #require(await restarted.views().first)
        #expect(view.lastKill == kill.time)
        #expect(view.plannedKill == nil)
    }

    @Test func aLeashedMonkeyRecordsItsKillAndSignalsNothing() async throws {
        let bench = Bench()
        let monkey = bench.monkey(leashed: true)
        await monkey.tick()
        await monkey.tick()
        let kill = try #require(try bench.log.events(kinds: [.chaosKill]).first)
        #expect(kill.fields["leashed"] == .bool(true))
        #expect(kill.instance != nil)
        #expect(bench.signals.withLock { $0.isEmpty })
        #expect(await monkey.views().first?.lastKill == nil)
    }

    @Test func aRolloutUnderWayIsNeverHitAndTheSkipSaysWhy() async throws {
        let bench = Bench()
        bench.rollout.withLock { $0 = true }
        let monkey = bench.monkey()
        await monkey.tick()
        await monkey.tick()
        #expect(try bench.kinds() == ["monkeyPlanned", "monkeySkipped"])
        let skipped = try #require(try bench.log.events(kinds: [.monkeySkipped]).first)
        #expect(skipped.fields["reasons"] == .array(["a rollout is under way"]))
        #expect(bench.signals.withLock { $0.isEmpty })
    }

    @Test func aHangFreezesThenLetsGo() async throws {
        let bench = Bench()
        let monkey = bench.monkey(action: .hang)
        await monkey.tick()
        await monkey.tick()
        #expect(bench.signals.withLock { $0.map(\.1) } == [SIGSTOP])
        try await waitUntil("the freeze ends", timeout: .seconds(10)) {
            bench.signals.withLock { $0.count } == 2
        }
        #expect(bench.signals.withLock { $0.map(\.1) } == [SIGSTOP, SIGCONT])
        #expect(try bench.kinds() == ["monkeyPlanned", "chaosKill", "chaosHangEnded"])
    }
}
