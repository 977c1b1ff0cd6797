import Foundation
import SlipwayCore
import Testing

@testable import SlipwayServer

/// The demo's lines say what the events say.
@Suite struct DemoNarrationTests {
    static let began = Date(timeIntervalSince1970: 1_000)

    static func line(_ kind: EventKind, _ fields: [String: JSONValue], after seconds: Double = 2.5) -> String? {
        DemoNarration.line(
            for: RecordedEvent(
                id: 1,
                time: began.addingTimeInterval(seconds),
                event: Event(app: "shop", kind: kind, fields: fields)
            ),
            since: began
        )
    }

    @Test func trafficLinesGiveEveryVersionsShare() {
        // Shares as the rollout machine records them (numbers), and as the log may read them back (integers).
        #expect(
            Self.line(.trafficShifted, ["weights": .object(["1.0.0": .double(90), "2.0.0": .double(10)])])
                == "     2.5s  traffic: 1.0.0 90%, 2.0.0 10%"
        )
        #expect(
            Self.line(.trafficShifted, ["weights": .object(["1.0.0": .int(50), "2.0.0": .int(50)])])
                == "     2.5s  traffic: 1.0.0 50%, 2.0.0 50%"
        )
        #expect(
            Self.line(.trafficShifted, ["weights": .object(["1.0.0": .double(87.5), "2.0.0": .double(12.5)])])
                == "     2.5s  traffic: 1.0.0 87.5%, 2.0.0 12.5%"
        )
        #expect(Self.line(.trafficShifted, [:]) == nil)
    }

    @Test func aRollbackSaysWhereToAndWhy() {
        #expect(
            Self.line(.rolloutRollingBack, ["to": "2.0.0", "reason": "errorRate worse"], after: 18.25)
                == "    18.2s  going back to 2.0.0: errorRate worse"
        )
    }
}
