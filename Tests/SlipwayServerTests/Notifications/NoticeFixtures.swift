import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayServer

/// Notices and channels shared by the notification tests.
enum NoticeFixtures {
    /// 2025-03-01T12:00:00.250Z.
    static let time = Date(timeIntervalSince1970: 1_740_830_400.25)

    /// A rollback with every fact set.
    static let rollback = Notice(
        kind: .rolloutRollingBack,
        severity: .critical,
        app: "shop",
        environment: "prod",
        rollout: 12,
        title: "shop@prod: 2.0.0 rolled back to 1.0.0",
        from: "1.0.0",
        to: "2.0.0",
        strategy: "canary",
        startedBy: "alice",
        reason: "successRate 0.97 < 0.99 for 2 windows",
        step: "3 of 7: weight 25%",
        result: "rolled back",
        duration: .milliseconds(252_500),
        checks: [
            CheckEvidence(check: "p99 <= 300ms", value: "212ms", threshold: "300ms", samples: 1200, passed: true),
            CheckEvidence(check: "successRate >= 0.99", value: "0.97", threshold: "0.99", samples: 1200, passed: false),
            CheckEvidence(check: "requests >= 10", value: "1200", threshold: "10", passed: true),
        ],
        details: [NoticeDetail("hook", "migrate-db"), NoticeDetail("output", "step 1 ok\nstep 2 <failed> & stopped")],
        dashboardURL: "https://slipway.example.com/apps/shop/rollouts/12",
        reportURL: "https://slipway.example.com/reports/shop%40prod/12",
        at: time
    )

    /// A notice with only the required facts.
    static func bare(_ kind: EventKind, _ severity: NotificationSeverity = .info, title: String = "t") -> Notice {
        Notice(kind: kind, severity: severity, app: "shop", title: title, at: time)
    }

    /// A channel posting to `url` with small timeouts for tests.
    static func channel(
        _ name: String,
        _ kind: NotificationChannelSpec.Kind = .webhook,
        url: String,
        events: Set<EventKind> = NotificationChannelSpec.defaultEvents,
        severity: NotificationSeverity = .info,
        timeout: Duration = .seconds(10),
        retries: Int = 2
    ) -> ResolvedChannel {
        let spec = NotificationChannelSpec(
            name: name,
            kind: kind,
            url: .literal(SecretText(url)),
            events: events,
            minimumSeverity: severity,
            timeout: timeout,
            retries: retries,
            keyPath: "notifications[0]"
        )
        return ResolvedChannel(spec: spec, url: SecretText(url))
    }

    /// `body` decoded as a JSON object.
    static func object(_ body: [UInt8]) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
    }
}

/// What a dispatcher reported, for tests to wait on.
actor DeliveryOutcomes {
    private(set) var failures: [DeliveryFailure] = []
    private(set) var deliveries: [DeliveryReport] = []

    func fail(_ failure: DeliveryFailure) {
        failures.append(failure)
    }

    func deliver(_ report: DeliveryReport) {
        deliveries.append(report)
    }

    /// Waits until at least `failures` failures and `deliveries` deliveries were reported, for at most `limit`.
    func wait(failures: Int = 0, deliveries: Int = 0, within limit: Duration = .seconds(20)) async {
        let end = ContinuousClock.now + limit
        while self.failures.count < failures || self.deliveries.count < deliveries, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
