import Foundation
import SlipwayConfig
import SlipwayCore

/// The generic webhook payload: one flat JSON object per notice, with keys sorted so that the body is stable.
///
/// Every key is always present; facts the notice does not have are `null`.
///
/// | key | type | meaning |
/// | --- | --- | --- |
/// | `event` | string | the event kind, like `rolloutRollingBack` |
/// | `severity` | string | `info`, `warning` or `critical` |
/// | `app` | string | the app |
/// | `environment` | string or null | the environment, like `prod` |
/// | `rollout` | integer or null | the rollout's number within the app |
/// | `title` | string | one line saying what happened |
/// | `from`, `to` | string or null | the stable and candidate versions |
/// | `strategy` | string or null | the rollout strategy |
/// | `by` | string or null | who started it |
/// | `reason` | string or null | why |
/// | `step` | string or null | where the rollout is, like `3 of 7: weight 25%` |
/// | `result` | string or null | `running`, `promoted`, `rolled back`, `aborted` |
/// | `durationMs` | integer or null | how long it took, in whole milliseconds |
/// | `checks` | array | `{check, value, threshold, samples (integer or null), passed (boolean)}` per check |
/// | `details` | object | further facts by name (a repeated name keeps its last value) |
/// | `dashboardURL` | string or null | a link to the dashboard |
/// | `reportURL` | string or null | a link to the rollout's report (HTML; its JSON is under `/api/v1`) |
/// | `at` | string | when, ISO 8601 in UTC with milliseconds: `2025-03-01T12:00:00.250Z` |
public enum WebhookPayload {
    /// The JSON body to post to a generic webhook for `notice`.
    public static func body(for notice: Notice) -> [UInt8] {
        NoticeFormatting.encode(payload(for: notice))
    }

    /// The payload for `notice` as a JSON value.
    public static func payload(for notice: Notice) -> JSONValue {
        let checks: [JSONValue] = notice.checks.map { check in
            .object([
                "check": .string(check.check),
                "value": .string(check.value),
                "threshold": .string(check.threshold),
                "samples": check.samples.map(JSONValue.int) ?? .null,
                "passed": .bool(check.passed),
            ])
        }
        var details: [String: JSONValue] = [:]
        for detail in notice.details {
            details[detail.name] = .string(detail.value)
        }
        return .object([
            "event": .string(notice.kind.rawValue),
            "severity": .string(notice.severity.rawValue),
            "app": .string(notice.app),
            "environment": text(notice.environment),
            "rollout": notice.rollout.map(JSONValue.int) ?? .null,
            "title": .string(notice.title),
            "from": text(notice.from),
            "to": text(notice.to),
            "strategy": text(notice.strategy),
            "by": text(notice.startedBy),
            "reason": text(notice.reason),
            "step": text(notice.step),
            "result": text(notice.result),
            "durationMs": notice.duration.map { JSONValue.int(Int($0.milliseconds)) } ?? .null,
            "checks": .array(checks),
            "details": .object(details),
            "dashboardURL": text(notice.dashboardURL),
            "reportURL": text(notice.reportURL),
            "at": .string(notice.timestampText),
        ])
    }

    private static func text(_ value: String?) -> JSONValue {
        value.map(JSONValue.string) ?? .null
    }
}

extension NoticeFormatting {
    /// `value` as compact JSON with sorted keys and unescaped slashes.
    static func encode(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Only non-finite numbers fail to encode, and messages have none.
        guard let data = try? encoder.encode(value) else { return Array("{}".utf8) }
        return Array(data)
    }
}
