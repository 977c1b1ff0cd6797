import Foundation
import SlipwayCore
import Testing

@testable import SlipwayStore

/// The one fold of a rollout from the log, which the status view, the history and recovery share.
@Suite struct RolloutRecordTests {
    func events() throws -> [RecordedEvent] {
        let log = EventLog()
        func add(_ kind: EventKind, _ fields: [String: JSONValue]) throws {
            try log.append([Event(app: "shop", kind: kind, fields: fields)])
        }
        try add(
            .rolloutStarted,
            [
                "rollout": 4, "purpose": "deploy", "from": "1.0", "to": "2.0", "strategy": "canary", "by": "ada",
                "reason": "new checkout", "plan": .array(["weight 10%", "pause", "promote"]),
                "env": .object(["FEATURE": "on"]),
            ]
        )
        try add(.rolloutStepStarted, ["rollout": 4, "step": 1, "steps": 3, "description": "pause 30s"])
        try add(.rolloutPaused, ["rollout": 4, "by": "ada", "step": 1])
        try add(.analysisJudged, ["rollout": 4, "verdict": "fail", "summary": "successRate 0.91 < 0.99"])
        // Another rollout's event changes nothing here.
        try add(.rolloutStepStarted, ["rollout": 3, "step": 2, "description": "promote"])
        try add(.rolloutRollingBack, ["rollout": 4, "outcome": "rolledBack", "reason": "analysis failed"])
        return try log.events()
    }

    @Test func aRunningRolloutIsFoldedTheSameForStatusAndHistory() throws {
        let events = try events()
        let record = try #require(RolloutRecord.fold(events).first)
        #expect(record.number == 4)
        #expect(record.state == "rollingBack")
        #expect(record.step == 1)
        #expect(record.steps == 3)
        #expect(record.stepDescription == "pause 30s")
        #expect(record.pausedByUser)
        #expect(record.rollbackOutcome == "rolledBack")
        #expect(record.lastDecision == "analysis failed")
        #expect(record.toEnv == ["FEATURE": "on"])
        #expect(record.outcome == nil)
        #expect(AppStatus.fold(app: "shop", events: events).rollout == record)
    }

    @Test func theEndKeepsTheReasonAndLaterHookResults() throws {
        let log = EventLog()
        for recorded in try events() { try log.append([recorded.event]) }
        try log.append([Event(app: "shop", kind: .rolloutFinished, fields: ["rollout": 4, "outcome": "rolledBack"])])
        try log.append([
            Event(
                app: "shop",
                kind: .hookFinished,
                fields: ["rollout": 4, "point": "onRollback", "hook": "page", "result": "succeeded"]
            )
        ])
        let events = try log.events()
        let record = try #require(RolloutRecord.fold(events).first)
        #expect(record.outcome == "rolledBack")
        #expect(record.state == "rolledBack")
        #expect(record.endReason == "analysis failed")
        #expect(record.endedAt != nil)
        #expect(record.lastDecision == "onRollback hook page succeeded")
        #expect(AppStatus.fold(app: "shop", events: events).rollout == record)
    }

    @Test func theAPIShapeLeavesTheReleasesEnvironmentOut() throws {
        let record = try #require(RolloutRecord.fold(try events()).first)
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(!json.contains("FEATURE"))
        let decoded = try JSONDecoder().decode(RolloutRecord.self, from: Data(json.utf8))
        #expect(decoded.state == "rollingBack")
        #expect(decoded.toEnv.isEmpty)
    }

    @Test func theExperimentsCheckpointIsKeptForRecoveryAndLeftOutOfTheAPI() throws {
        let log = EventLog()
        try log.append([
            Event(
                app: "shop",
                kind: .rolloutStarted,
                fields: ["rollout": 1, "from": "1.0", "to": "2.0", "strategy": "abTest", "by": "ada"]
            )
        ])
        try log.append([
            Event(
                app: "shop",
                kind: .experimentCheckpoint,
                fields: [
                    "rollout": 1, "summary": "B against A inconclusive",
                    "checkpoint": .object(["split": .array([3, 4])]),
                ]
            )
        ])
        let record = try #require(RolloutRecord.fold(try log.events()).first)
        #expect(record.experimentCheckpoint == .object(["split": .array([3, 4])]))
        // A checkpoint is not a decision.
        #expect(record.lastDecision == nil)
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(!json.contains("checkpoint"))
        #expect(!json.contains("split"))
    }

    @Test func aPeriodicCheckpointKeepsTheHistoryOfTheLastOneThatHadIt() throws {
        let log = EventLog()
        func add(_ kind: EventKind, _ checkpoint: JSONValue) throws {
            try log.append([Event(app: "shop", kind: kind, fields: ["rollout": 1, "checkpoint": checkpoint])])
        }
        try log.append([
            Event(app: "shop", kind: .rolloutStarted, fields: ["rollout": 1, "from": "1.0", "to": "2.0", "by": "ada"])
        ])
        try add(.experimentUpdated, .object(["split": .array([1, 1]), "history": .array(["old"])]))
        try add(.experimentCheckpoint, .object(["split": .array([5, 6])]))
        try add(.experimentCheckpoint, .null)
        let record = try #require(RolloutRecord.fold(try log.events()).first)
        #expect(record.experimentCheckpoint == .object(["split": .array([5, 6]), "history": .array(["old"])]))
    }
}
