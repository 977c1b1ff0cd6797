import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// The app's waiting room goes with each judgement as evidence, charged to no version.
@Suite struct RolloutMachineWaitingRoomTests {
    typealias H = RolloutHarness

    @Test func aJudgementWhileUsersQueuedCarriesTheWaitingRoomAndAQuietOneDoesNot() {
        var harness = H(H.plan(.canary(CanarySpec(steps: [.weight(percent(10)), .analysis(AnalysisStepSpec())]))))
        harness.feed(.begin)
        harness.settle()
        func window(_ admission: AdmissionWindow) {
            let start = harness.now
            harness.advance(.seconds(2))
            let versions = [
                "1.0.0": VersionWindow(requests: 100, errors: 0),
                "2.0.0": VersionWindow(requests: 50, errors: 0),
            ]
            harness.feed(
                .metrics(
                    MetricsWindow(start: start, end: harness.now, versions: versions, admission: admission),
                    preview: nil
                )
            )
        }
        window(AdmissionWindow(admittedAfterWaiting: 40, refused: 7, timedOut: 1, waitedSeconds: 2, waitingAtEnd: 3))
        let busy = harness.last(.analysisJudged)
        #expect(busy?.fields["verdict"] == "pass")
        #expect(
            busy?.fields["waitingRoom"]
                == .object([
                    "admittedAfterWaiting": .int(40),
                    "refused": .int(7),
                    "timedOut": .int(1),
                    "meanWaitMs": .double(50),
                    "waitingAtEnd": .int(3),
                ])
        )
        window(AdmissionWindow(admittedAfterWaiting: 0, refused: 0, timedOut: 0, waitedSeconds: 0, waitingAtEnd: 0))
        #expect(harness.last(.analysisJudged)?.fields["waitingRoom"] == nil)
    }
}
