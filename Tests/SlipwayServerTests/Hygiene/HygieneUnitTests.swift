import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayStore
import Testing

@testable import SlipwayServer

@Suite struct TrafficHoursTests {
    /// 2026-11-23 10:00:00 UTC, a Monday.
    static let hour = Date(timeIntervalSince1970: 1_795_428_000)

    @Test func countsAreWrittenPerHourAtMostOnceAMinuteAndOnFlush() throws {
        let log = EventLog()
        let hours = TrafficHours(log: log, flushInterval: 60)
        hours.add(["shop": 10, "cart": 0], at: Self.hour.addingTimeInterval(5))
        // The first add writes (nothing was written for a minute); later ones within the minute wait.
        hours.add(["shop": 7], at: Self.hour.addingTimeInterval(20))
        #expect(try log.traffic(app: "shop", since: .distantPast) == [HourlyRequests(hour: Self.hour, requests: 10)])
        // The next hour's first count writes the previous hour's rest.
        hours.add(["shop": 3], at: Self.hour.addingTimeInterval(3_600 + 1))
        #expect(try log.traffic(app: "shop", since: .distantPast) == [HourlyRequests(hour: Self.hour, requests: 17)])
        hours.flush()
        #expect(
            try log.traffic(app: "shop", since: .distantPast) == [
                HourlyRequests(hour: Self.hour, requests: 17),
                HourlyRequests(hour: Self.hour.addingTimeInterval(3_600), requests: 3),
            ]
        )
        #expect(try log.traffic(app: "shop", since: Self.hour.addingTimeInterval(1)).count == 1)
        #expect(try log.traffic(app: "cart", since: .distantPast).isEmpty)
    }

    @Test func theWindowsViewSuggestsTheQuietestAllowedHours() throws {
        // Four weeks of traffic in Seoul: busy by day, quiet at night, quietest on Tuesdays 04:00.
        var traffic: [HourlyRequests] = []
        let start = Date(timeIntervalSince1970: 1_793_545_200)  // Mon 2026-11-02 00:00 KST (Sun 15:00 UTC)
        for hour in 0..<(28 * 24) {
            let date = start.addingTimeInterval(TimeInterval(hour * 3_600))
            let local = hour % 24
            let weekday = hour / 24 % 7  // 0 = Monday
            var requests = (8...20).contains(local) ? 5_000 : 400
            if weekday == 1, local == 4 { requests = 50 }
            if weekday == 4, local == 3 { requests = 10 }  // Friday 03:00: quiet, but inside a freeze-like deny
            traffic.append(HourlyRequests(hour: date, requests: requests))
        }
        let deny = DeployWindowsSpec(
            timeZone: "Asia/Seoul",
            deny: [WeeklyRange(days: [5], from: 0, to: 1_440)],
            keyPath: "apps[0].windows"
        )
        let now = start.addingTimeInterval(28 * 86_400)
        let view = WindowsView.make(app: "shop", calendar: DeployCalendar([deny]), traffic: traffic, now: now)
        #expect(view.timeZone == "Asia/Seoul")
        #expect(view.hoursRecorded == 28 * 24)
        #expect(view.quietHours.first?.text == "Tue 04:00–05:00")
        #expect(view.quietHours.first?.averageRequests == 50)
        #expect(view.quietHours.first?.samples == 4)
        #expect(!view.quietHours.contains { $0.weekday == "Fri" })
        #expect(view.rules == ["deny Fri 00:00–24:00 (Asia/Seoul, apps[0].windows)"])
        #expect(view.allowedNow)
    }
}

@Suite struct NoticeBuilderTests {
    static let spec = AppSpec(
        index: 0,
        name: "shop",
        listen: HostPort(host: "127.0.0.1", port: 8080),
        instances: 3,
        version: "1.0.0",
        run: RunSpec(command: ["shop"]),
        environment: "prod"
    )

    static func event(_ kind: EventKind, _ fields: [String: JSONValue], id: Int64 = 1) -> RecordedEvent {
        RecordedEvent(
            id: id,
            time: Date(timeIntervalSince1970: 1_795_428_000),
            event: Event(app: "shop@prod", kind: kind, fields: fields)
        )
    }

    @Test func aRollbackByTheComparisonCarriesItsEvidence() {
        let comparison: JSONValue = .object([
            "compare": "errorRate vs stable (no increase)", "standing": "harm", "ratio": .double(5.61),
            "ratioInterval": .array([.double(1.3), .double(20.07)]), "maxEValue": .double(396), "threshold": 100,
            "candidate": .object(["version": "2.0.0", "requests": 89, "events": 10]),
        ])
        let back = Self.event(
            .rolloutRollingBack,
            [
                "rollout": 4, "outcome": "rolledBack",
                "reason": "the comparison with 1.0.0 found harm: errorRate vs stable (no increase)",
                "comparisons": .array([comparison]),
            ]
        )
        let notice = NoticeBuilder(dashboard: nil).notice(
            for: back,
            severity: NoticeBuilder.severity(of: back),
            spec: Self.spec,
            status: AppStatus(app: "shop@prod"),
            evidence: []
        )
        #expect(
            notice.checks == [
                CheckEvidence(
                    check: "errorRate vs stable (no increase)",
                    value: "5.61× the stable version's (1.3×–20.07×), e = 396.0",
                    threshold: "e ≥ 100",
                    samples: 89,
                    passed: false
                )
            ]
        )
    }

    @Test func everyNoticeOfARolloutSaysWhatItShips() {
        var status = AppStatus(app: "shop@prod")
        let release = ReleaseMetadata(
            commit: "3f2c9e1",
            build: "ghcr.io/acme/shop:2.0.0",
            source: "https://github.com/acme/shop/commit/3f2c9e1",
            author: "octocat"
        )
        status.apply(
            Self.event(
                .rolloutStarted,
                [
                    "rollout": 5, "from": "1.0.0", "to": "2.0.0", "strategy": "canary", "by": "ada@laptop",
                    "release": release.json,
                ]
            )
        )
        let finished = Self.event(.rolloutFinished, ["rollout": 5, "outcome": "promoted", "stable": "2.0.0"], id: 2)
        status.apply(finished)
        let notice = NoticeBuilder(dashboard: nil).notice(
            for: finished,
            severity: NoticeBuilder.severity(of: finished),
            spec: Self.spec,
            status: status,
            evidence: []
        )
        #expect(notice.startedBy == "ada@laptop")
        #expect(
            notice.details.map { "\($0.name): \($0.value)" } == [
                "Commit: 3f2c9e1", "Build: ghcr.io/acme/shop:2.0.0",
                "Source: https://github.com/acme/shop/commit/3f2c9e1", "Author: octocat",
            ]
        )
    }

    @Test func aRollbackNoticeCarriesTheRolloutAndTheFailingChecks() {
        let checks = JSONValue.array([
            .object([
                "check": "successRate >= 95%", "verdict": "fail", "value": "70%", "threshold": "95%", "requests": 412,
            ]),
            .object([
                "check": "p99 <= 300ms", "verdict": "pass", "value": "12ms", "threshold": "300ms", "requests": 412,
            ]),
        ])
        var status = AppStatus(app: "shop@prod")
        let started = Self.event(
            .rolloutStarted,
            [
                "rollout": 4, "from": "1.0.0", "to": "2.0.0", "strategy": "canary", "by": "bob",
                "reason": "faster search",
                "plan": .array(["weight 10%", "promote"]),
            ]
        )
        status.apply(started)
        let back = Self.event(
            .rolloutRollingBack,
            [
                "rollout": 4, "reason": "fail-fast check failed: successRate >= 95%", "outcome": "rolledBack",
                "checks": checks,
            ],
            id: 2
        )
        status.apply(back)
        let builder = NoticeBuilder(dashboard: "https://slipway.example.com")
        let notice = builder.notice(
            for: back,
            severity: NoticeBuilder.severity(of: back),
            spec: Self.spec,
            status: status,
            evidence: []
        )
        #expect(notice.title == "shop@prod: rolling back 2.0.0 to 1.0.0")
        #expect(notice.severity == .critical)
        #expect(notice.environment == "prod" && notice.rollout == 4)
        #expect(notice.from == "1.0.0" && notice.to == "2.0.0" && notice.strategy == "canary")
        #expect(notice.startedBy == "bob" && notice.reason == "faster search")
        #expect(notice.result == "rolling back")
        #expect(notice.checks.map(\.check) == ["successRate >= 95%", "p99 <= 300ms"])
        #expect(
            notice.checks.first
                == CheckEvidence(
                    check: "successRate >= 95%",
                    value: "70%",
                    threshold: "95%",
                    samples: 412,
                    passed: false
                )
        )
        #expect(notice.details.first == NoticeDetail("Why it went back", "fail-fast check failed: successRate >= 95%"))
        #expect(notice.dashboardURL == "https://slipway.example.com/#app=shop%40prod")
        #expect(notice.reportURL == "https://slipway.example.com/reports/shop@prod/4")
        // Severities of the other kinds.
        #expect(NoticeBuilder.severity(of: Self.event(.rolloutFinished, ["outcome": "promoted"])) == .info)
        #expect(NoticeBuilder.severity(of: Self.event(.rolloutFinished, ["outcome": "aborted"])) == .warning)
        #expect(
            NoticeBuilder.severity(of: Self.event(.hookFinished, ["point": "preDeploy", "result": "failed"]))
                == .critical
        )
        #expect(
            NoticeBuilder.severity(of: Self.event(.hookFinished, ["point": "postPromotion", "result": "timedOut"]))
                == .warning
        )
        #expect(NoticeBuilder.severity(of: Self.event(.deployForced, [:])) == .warning)
    }
}

@Suite struct ReleasePathTests {
    static func record(
        _ number: Int,
        _ to: String,
        _ outcome: String?,
        at minute: Double,
        strategy: String = "canary"
    )
        -> RolloutRecord
    {
        RolloutRecord(
            number: number,
            from: "?",
            to: to,
            strategy: strategy,
            by: "ada",
            reason: nil,
            startedAt: Date(timeIntervalSince1970: minute * 60),
            outcome: outcome,
            endedAt: outcome == nil ? nil : Date(timeIntervalSince1970: minute * 60 + 30)
        )
    }

    @Test func eachVersionShowsItsLatestRolloutPerEnvironmentNewestFirst() {
        let paths = ReleasePath.build(
            environments: ["dev", "staging", "prod"],
            records: [
                "dev": [Self.record(1, "2.0.0", "promoted", at: 1), Self.record(2, "2.1.0", "promoted", at: 5)],
                "staging": [
                    Self.record(1, "2.0.0", "rolledBack", at: 2), Self.record(2, "2.0.0", "promoted", at: 3),
                    Self.record(3, "2.0.0", "promoted", at: 4, strategy: "rolling restart"),
                    Self.record(4, "2.1.0", nil, at: 6),
                ],
                "prod": [Self.record(1, "2.0.0", "promoted", at: 4)],
            ]
        )
        #expect(paths.map(\.version) == ["2.1.0", "2.0.0"])
        #expect(paths[0].stages.map(\.environment) == ["dev", "staging"])
        #expect(paths[0].stages.map(\.outcome) == ["promoted", "running"])
        #expect(paths[1].stages.map(\.environment) == ["dev", "staging", "prod"])
        // The latest rollout of the version counts, and a restart is not a step of the path.
        #expect(paths[1].stages[1].rollout == 2 && paths[1].stages[1].outcome == "promoted")
    }
}
