import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct AnalysisTests {
    let successRate = AnalysisCheck(
        metric: .successRate,
        comparison: .greaterThanOrEqual,
        threshold: 0.99,
        text: "successRate >= 99%"
    )
    let p99 = AnalysisCheck(metric: .p99, comparison: .lessThanOrEqual, threshold: 0.3, text: "p99 <= 300ms")

    func window(requests: Int, errors: Int, p99: Duration = .milliseconds(20)) -> MetricsWindow {
        MetricsWindow(
            start: Moment(.seconds(10)),
            end: Moment(.seconds(12)),
            versions: ["2.0": VersionWindow(requests: requests, errors: errors, latencies: [.p99: p99])]
        )
    }

    @Test func aWindowPassesWhenEveryCheckHoldsWithEnoughRequests() {
        let judgement = WindowJudgement(
            checks: [successRate, p99],
            minRequests: 20,
            version: "2.0",
            window: window(requests: 200, errors: 1)
        )
        #expect(judgement.verdict == .pass)
        #expect(judgement.results.map(\.value) == [0.995, 0.02])
        #expect(judgement.fields["windowMs"] == 2_000)
        #expect(judgement.summary.hasPrefix("successRate >= 99%: 99.5% over 200 requests (pass)"))
    }

    @Test func oneFailingCheckFailsTheWindowAndNamesItsEvidence() {
        let judgement = WindowJudgement(
            checks: [successRate, p99],
            minRequests: 20,
            version: "2.0",
            window: window(requests: 200, errors: 0, p99: .milliseconds(450))
        )
        #expect(judgement.verdict == .fail)
        #expect(judgement.failing.map(\.check.text) == ["p99 <= 300ms"])
        #expect(
            judgement.results[1].fields
                == .object([
                    "check": "p99 <= 300ms", "verdict": "fail", "threshold": "300ms", "value": "450ms", "requests": 200,
                    "minRequests": 20,
                ])
        )
    }

    @Test func tooFewRequestsAreInconclusiveEvenWhenTheyAllFailed() {
        let judgement = WindowJudgement(
            checks: [successRate],
            minRequests: 20,
            version: "2.0",
            window: window(requests: 19, errors: 19)
        )
        #expect(judgement.verdict == .inconclusive)
        #expect(judgement.summary.contains("19 of 20 requests needed"))
    }

    @Test func aCheckMayAskForItsOwnSampleSize() {
        var strict = successRate
        strict.minRequests = 500
        let judgement = WindowJudgement(
            checks: [strict],
            minRequests: 20,
            version: "2.0",
            window: window(requests: 200, errors: 0)
        )
        #expect(judgement.verdict == .inconclusive)
    }

    @Test func aVersionWithoutTrafficIsInconclusiveNotPassing() {
        let judgement = WindowJudgement(
            checks: [successRate],
            minRequests: 1,
            version: "3.0",
            window: window(requests: 200, errors: 0)
        )
        #expect(judgement.verdict == .inconclusive)
    }

    @Test func aRunPassesAfterItsWindowsAndFailsPastItsLimit() {
        var run = AnalysisRun(
            step: AnalysisStepSpec(windows: 2, failureLimit: 1),
            analysis: AnalysisSpec(checks: [successRate], minRequests: 10),
            version: "2.0"
        )
        #expect(run.judge(window(requests: 100, errors: 0)).1 == .running)
        #expect(run.judge(window(requests: 100, errors: 5)).1 == .running)
        #expect(run.judge(window(requests: 5, errors: 0)).1 == .running)
        #expect(run.judge(window(requests: 100, errors: 0)).1 == .passed)
        #expect(run.tally["inconclusive"] == 1)
        var failing = AnalysisRun(
            step: AnalysisStepSpec(windows: 3, failureLimit: 1),
            analysis: AnalysisSpec(checks: [successRate], minRequests: 10),
            version: "2.0"
        )
        #expect(failing.judge(window(requests: 100, errors: 5)).1 == .running)
        #expect(failing.judge(window(requests: 100, errors: 5)).1 == .failed)
    }

    @Test func requestsChecksNeedNoMinimumSample() {
        let enough = AnalysisCheck(
            metric: .requests,
            comparison: .greaterThanOrEqual,
            threshold: 50,
            text: "requests >= 50"
        )
        let judgement = WindowJudgement(
            checks: [enough],
            minRequests: 100,
            version: "2.0",
            window: window(requests: 40, errors: 0)
        )
        #expect(judgement.verdict == .fail)
    }
}
