import Foundation
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// What a restarted controller reads from the log.
@Suite struct RecoveredStateTests {
    var clock = 0

    mutating func event(_ kind: EventKind, _ instance: String? = nil, _ fields: [String: JSONValue]) -> RecordedEvent {
        clock += 1
        return RecordedEvent(
            id: Int64(clock),
            time: Date(timeIntervalSince1970: Double(clock)),
            event: Event(app: "shop", kind: kind, instance: instance.map(InstanceID.init), fields: fields)
        )
    }

    @Test mutating func anUnfinishedCanaryIsFoundWithItsStepPauseAndLiveInstances() {
        let events = [
            event(
                .instanceStarted,
                "shop-1",
                ["version": "1.0", "pid": 101, "port": 9001, "address": "127.0.0.1:9001"]
            ),
            event(
                .instanceStarted,
                "shop-2",
                ["version": "1.0", "pid": 102, "port": 9002, "address": "127.0.0.1:9002"]
            ),
            event(
                .rolloutStarted,
                nil,
                [
                    "rollout": 1, "from": "1.0", "to": "2.0", "strategy": "canary", "by": "ada", "purpose": "deploy",
                    "env": .object(["FEATURE": "on"]),
                ]
            ),
            event(
                .instanceStarted,
                "shop-3",
                ["version": "2.0", "pid": 103, "port": 9003, "role": "candidate", "rollout": 1]
            ),
            event(.rolloutStepStarted, nil, ["rollout": 1, "step": 2]),
            event(.rolloutPaused, nil, ["rollout": 1]),
            event(.instanceExited, "shop-2", ["status": "signal 9"]),
        ]
        let state = RecoveredState.fold(events)
        let rollout = state.unfinished
        #expect(rollout?.number == 1)
        #expect(rollout?.step == 2)
        #expect(rollout?.pausedByUser == true)
        #expect(rollout?.toRelease == Release(version: "2.0", env: ["FEATURE": "on"]))
        #expect(state.stable == Release(version: "1.0"))
        #expect(Set(state.alive.keys) == [InstanceID("shop-1"), InstanceID("shop-3")])
        #expect(state.alive[InstanceID("shop-3")]?.role == "candidate")
        #expect(state.alive[InstanceID("shop-3")]?.host == "127.0.0.1")
        #expect(state.lastNumber == 1)
    }

    @Test mutating func finishedRolloutsSetTheStableReleaseAndItsHistory() {
        let events = [
            event(.rolloutStarted, nil, ["rollout": 1, "from": "1.0", "to": "2.0", "strategy": "canary"]),
            event(.rolloutFinished, nil, ["rollout": 1, "outcome": "promoted"]),
            event(.rolloutStarted, nil, ["rollout": 2, "from": "2.0", "to": "3.0", "strategy": "canary"]),
            event(.rolloutRollingBack, nil, ["rollout": 2, "outcome": "rolledBack", "reason": "fail-fast"]),
            event(.rolloutFinished, nil, ["rollout": 2, "outcome": "rolledBack", "reason": "fail-fast"]),
        ]
        let state = RecoveredState.fold(events)
        #expect(state.unfinished == nil)
        #expect(state.stable?.version == "2.0")
        #expect(state.releases.map(\.version) == ["1.0", "2.0"])
        #expect(state.lastFinished?.number == 2)
        #expect(state.lastFinished?.rolloutOutcome == .rolledBack)
        #expect(state.lastFinished?.endReason == "fail-fast")
        let records = RolloutRecord.fold(events)
        #expect(records.map(\.outcome) == ["promoted", "rolledBack"])
    }
}
