import Foundation
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayServer

/// The report of a rollout folded from events, points and failed requests, and its page, without a controller.
@Suite struct RolloutReportTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A canary of 2.0.0 that rolled back after its instance crashed once and failed a check, in a log that also
    /// holds an earlier rollout and a later restart of the stable instance.
    static var events: [RecordedEvent] {
        var id: Int64 = 0
        func at(
            _ seconds: Double,
            _ kind: EventKind,
            _ instance: String? = nil,
            _ fields: [String: JSONValue] = [:]
        )
            -> RecordedEvent
        {
            id += 1
            return RecordedEvent(
                id: id,
                time: start.addingTimeInterval(seconds),
                event: Event(app: "shop", kind: kind, instance: instance.map(InstanceID.init), fields: fields)
            )
        }
        return [
            at(-100, .rolloutStarted, nil, ["rollout": 1, "from": "0.9.0", "to": "1.0.0", "strategy": "rolling"]),
            at(-90, .rolloutFinished, nil, ["rollout": 1, "outcome": "promoted"]),
            at(-50, .instanceStarted, "shop-1", ["version": "1.0.0"]),
            at(
                0,
                .rolloutStarted,
                nil,
                [
                    "rollout": 2, "from": "1.0.0", "to": "2.0.0", "strategy": "canary", "by": "ada@host",
                    "release": .object(["commit": "9b1d2e7", "source": "javascript:alert(1)"]),
                ]
            ),
            at(0.1, .rolloutStepStarted, nil, ["rollout": 2, "step": 0, "steps": 3, "description": "weight 25%"]),
            at(0.2, .instanceStarted, "shop-3", ["rollout": 2, "version": "2.0.0", "role": "candidate"]),
            at(1, .trafficShifted, nil, ["rollout": 2, "weights": .object(["1.0.0": 75, "2.0.0": 25])]),
            at(2, .instanceUnhealthy, "shop-3", ["reason": "GET / answered 500"]),
            at(
                3,
                .instanceExited,
                "shop-3",
                ["status": "exit 1", "expected": false, "stderrTail": .array(["panic: <boom>"])]
            ),
            at(3.5, .instanceExited, "shop-1", ["status": "exit 0", "expected": true]),
            at(
                4,
                .analysisJudged,
                nil,
                [
                    "rollout": 2, "verdict": "fail", "summary": "successRate 80% < 99%",
                    "checks": .array([
                        .object([
                            "check": "successRate >= 99%", "value": "80%", "threshold": "99%", "requests": 50,
                            "verdict": "fail",
                        ])
                    ]),
                ]
            ),
            at(4, .rolloutRollingBack, nil, ["rollout": 2, "outcome": "rolledBack", "reason": "check failed"]),
            at(
                4,
                .instanceLogTail,
                "shop-4",
                ["rollout": 2, "version": "2.0.0", "lines": .array(["GET / 500", "oops"])]
            ),
            at(5, .rolloutFinished, nil, ["rollout": 2, "outcome": "rolledBack", "reason": "check failed"]),
            at(80, .instanceStarted, "shop-9", ["version": "1.0.0"]),
        ]
    }

    static var report: RolloutReport {
        let record = RolloutRecord.fold(events).first { $0.number == 2 }!
        let points = [
            RolloutTrafficPoint(
                time: start.addingTimeInterval(2),
                version: "1.0.0",
                seconds: 2,
                requests: 100,
                errors: 0,
                p99Ms: 5
            ),
            RolloutTrafficPoint(
                time: start.addingTimeInterval(2),
                version: "2.0.0",
                seconds: 2,
                requests: 30,
                errors: 6,
                p99Ms: 9
            ),
            RolloutTrafficPoint(
                time: start.addingTimeInterval(4),
                version: "2.0.0",
                seconds: 2,
                requests: 20,
                errors: 10,
                p99Ms: 12
            ),
        ]
        let failures = [
            FailedRequest(
                timeNs: 1_800_000_003_000_000_000,
                version: "2.0.0",
                instance: "shop-3",
                method: "GET",
                path: "/<script>",
                status: 500,
                latencyMs: 3,
                requestID: "r-2"
            ),
            FailedRequest(
                timeNs: 1_800_000_002_000_000_000,
                version: "1.0.0",
                instance: "shop-1",
                method: "GET",
                path: "/",
                status: 502,
                latencyMs: 1,
                requestID: "r-1",
                proxyError: "connection refused"
            ),
        ]
        return RolloutReport(
            app: "shop",
            record: record,
            events: events,
            points: points,
            failures: RecordedFailures(newest: failures, kept: 2)
        )
    }

    @Test func aReportHoldsOnlyItsOwnRolloutsEventsAndItsInstances() {
        let report = Self.report
        #expect(report.rollout == 2 && report.record.outcome == "rolledBack")
        let kinds = report.timeline.map(\.kind)
        #expect(kinds.first == "rolloutStarted" && kinds.last == "rolloutFinished")
        // Its own candidate's events, not the stable instance's exit nor the later restart.
        #expect(
            report.timeline.filter { $0.instance == "shop-3" }.map(\.kind) == [
                "instanceStarted", "instanceUnhealthy", "instanceExited",
            ]
        )
        #expect(!report.timeline.contains { $0.instance == "shop-1" || $0.instance == "shop-9" })
        #expect(
            report.timeline.filter(\.alarming).map(\.kind) == [
                "instanceUnhealthy", "instanceExited", "analysisJudged", "rolloutRollingBack", "rolloutFinished",
            ]
        )
        #expect(report.weights == [.init(time: Self.start.addingTimeInterval(1), percent: ["1.0.0": 75, "2.0.0": 25])])
    }

    @Test func decisionsCarryTheirChecksAndFailedRequestsAreTheCandidates() throws {
        let report = Self.report
        #expect(report.decisions.map(\.kind) == ["analysis", "rollback"])
        let check = try #require(report.decisions.first?.checks.first)
        #expect(check.check == "successRate >= 99%" && check.value == "80%" && check.samples == 50 && !check.passed)
        #expect(report.failedRequests.map(\.requestID) == ["r-2"])
        #expect(report.failedRequestsRecorded == 2)
        // The crash's tail and the tail at the verdict, in order.
        #expect(report.stderr.map(\.when) == ["crash", "verdict"])
        #expect(report.stderr.map(\.lines) == [["panic: <boom>"], ["GET / 500", "oops"]])
        // Stable first, then the candidate, with totals.
        #expect(report.traffic.map(\.version) == ["1.0.0", "2.0.0"])
        #expect(
            report.traffic[1].requests == 50 && report.traffic[1].errors == 16 && report.traffic[1].worstP99Ms == 12
        )
        #expect(report.traffic[1].points.map(\.errorRate) == [0.2, 0.5])
    }

    @Test func thePageIsSelfContainedAndEscapesWhatTheAppControls() {
        let html = Self.report.htmlPage()
        #expect(html.hasPrefix("<!doctype html>"))
        for outside in ["<script", "src=", "<link", "@import"] {
            #expect(!html.contains(outside), "found \(outside)")
        }
        #expect(html.contains("/&lt;script&gt;"))
        #expect(html.contains("panic: &lt;boom&gt;"))
        #expect(html.contains("when it exited, its last line") && html.contains("its last 2 lines"))
        // A link field that is not http(s) is shown as text, escaped, never as a link.
        #expect(!html.contains("href=\"javascript") && html.contains("<code>javascript:alert(1)</code>"))
        #expect(
            html.contains("<svg id=\"chart-rps\"") && html.contains("<svg id=\"chart-errors\"")
                && html.contains("<svg id=\"chart-p99\"")
        )
        #expect(html.contains("data-version=\"2.0.0\""))
        #expect(html.contains("/api/v1/apps/shop/rollouts/2/report"))
        #expect(html.contains("Why it went back"))
    }

    @Test func longSeriesAreMergedKeepingCountsAndTheWorstP99() {
        let points = (0..<1_000).map { index in
            RolloutReport.VersionTraffic.Point(
                time: Self.start.addingTimeInterval(Double(index)),
                seconds: 1,
                requests: 10,
                errors: index == 500 ? 10 : 0,
                p99Ms: index == 777 ? 900 : 5
            )
        }
        let merged = RolloutReportPage.merge(points)
        #expect(merged.count <= RolloutReportPage.maximumPoints)
        #expect(merged.reduce(0) { $0 + $1.requests } == 10_000)
        #expect(merged.reduce(0) { $0 + $1.errors } == 10)
        #expect(merged.compactMap(\.p99Ms).max() == 900)
        #expect(merged.last?.time == points.last?.time)
    }

    @Test func chartAxesEndOnRoundNumbers() {
        #expect(ReportChart.niceCeiling(0) == 1)
        #expect(ReportChart.niceCeiling(0.013) == 0.02)
        #expect(ReportChart.niceCeiling(180) == 200)
        #expect(ReportChart.niceCeiling(230) == 250)
        #expect(ReportChart.niceCeiling(1_000) == 1_000)
        #expect(
            ReportChart.elapsed(42) == "42s" && ReportChart.elapsed(185) == "3m05s"
                && ReportChart.elapsed(3_720) == "1h02m"
        )
    }

    @Test func anUnknownRolloutIsRefusedWithTheOnesThatExist() throws {
        let log = EventLog()
        _ = try log.append(Self.events.map(\.event))
        #expect(throws: CommandRefusal(.notFound, "\"shop\" has no rollout #7 (its rollouts are #1 to #2)")) {
            try RolloutReport.load(from: log, app: "shop", rollout: 7)
        }
        #expect(try RolloutReport.load(from: log, app: "shop", rollout: nil).rollout == 2)
        #expect(throws: CommandRefusal(.notFound, "\"cart\" has no rollout (it has had no rollout)")) {
            try RolloutReport.load(from: log, app: "cart", rollout: nil)
        }
    }
}
