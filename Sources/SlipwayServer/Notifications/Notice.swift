import Foundation
import SlipwayConfig
import SlipwayCore

/// What one notification tells: filled by the controller from an event, turned into a Slack message or a webhook
/// payload by ``SlackMessage`` and ``WebhookPayload``.
///
/// Every text is plain text: the message builders escape and shorten it as their format needs.
public struct Notice: Sendable, Equatable {
    /// The kind of event the notice is about; channels filter on it.
    public var kind: EventKind
    /// How serious it is; channels filter on it.
    public var severity: NotificationSeverity
    /// The app it concerns.
    public var app: String
    /// The environment the app runs in, if the configuration names one (like `prod`).
    public var environment: String?
    /// The rollout's number within the app, if it concerns a rollout.
    public var rollout: Int?
    /// One line saying what happened, like `shop@prod: 2.0.0 rolled back to 1.0.0`.
    public var title: String
    /// The version running before (the stable release).
    public var from: String?
    /// The version being rolled out (the candidate).
    public var to: String?
    /// The rollout strategy, like `canary`.
    public var strategy: String?
    /// Who started the rollout (or the command), like `alice` or `api`.
    public var startedBy: String?
    /// Why: the reason given by a user, or the engine's reason for a rollback.
    public var reason: String?
    /// Where the rollout is, like `3 of 7: weight 25%`.
    public var step: String?
    /// How it stands or ended: `running`, `promoted`, `rolled back`, `aborted`.
    public var result: String?
    /// How long the rollout (or hook) took.
    public var duration: Duration?
    /// The analysis checks behind a decision, with their evidence.
    public var checks: [CheckEvidence]
    /// Further facts, in order: a hook's name and the tail of its output, an override reason.
    public var details: [NoticeDetail]
    /// A link to the app or rollout in a dashboard.
    public var dashboardURL: String?
    /// A link to the rollout's report (``ReportRoutes``), for a notice about a rollout.
    public var reportURL: String?
    /// When it happened.
    public var at: Date

    /// Creates a notice; only the kind, severity, app, title and time are required.
    public init(
        kind: EventKind,
        severity: NotificationSeverity,
        app: String,
        environment: String? = nil,
        rollout: Int? = nil,
        title: String,
        from: String? = nil,
        to: String? = nil,
        strategy: String? = nil,
        startedBy: String? = nil,
        reason: String? = nil,
        step: String? = nil,
        result: String? = nil,
        duration: Duration? = nil,
        checks: [CheckEvidence] = [],
        details: [NoticeDetail] = [],
        dashboardURL: String? = nil,
        reportURL: String? = nil,
        at: Date
    ) {
        self.kind = kind
        self.severity = severity
        self.app = app
        self.environment = environment
        self.rollout = rollout
        self.title = title
        self.from = from
        self.to = to
        self.strategy = strategy
        self.startedBy = startedBy
        self.reason = reason
        self.step = step
        self.result = result
        self.duration = duration
        self.checks = checks
        self.details = details
        self.dashboardURL = dashboardURL
        self.reportURL = reportURL
        self.at = at
    }
}

/// One further fact of a notice: a name and its value, like `hook` and `migrate-db`.
public struct NoticeDetail: Sendable, Equatable {
    /// What the fact is, like `hook`, `output` or `override reason`.
    public var name: String
    /// Its value; may span several lines (the tail of a hook's output).
    public var value: String

    /// Creates a detail.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The evidence of one analysis check: what was measured against what.
public struct CheckEvidence: Sendable, Equatable {
    /// The check as written, like `successRate >= 0.99`.
    public var check: String
    /// The measured value, like `0.97`.
    public var value: String
    /// The threshold it was compared with, like `0.99`.
    public var threshold: String
    /// How many requests the value is based on, if known.
    public var samples: Int?
    /// Whether the check passed.
    public var passed: Bool

    /// Creates the evidence of a check.
    public init(check: String, value: String, threshold: String, samples: Int? = nil, passed: Bool) {
        self.check = check
        self.value = value
        self.threshold = threshold
        self.samples = samples
        self.passed = passed
    }
}

extension Notice {
    /// The version change: `1.0.0 → 2.0.0`, or the one version known; nil when neither is.
    var versionText: String? {
        switch (from, to) {
        case (let from?, let to?): return "\(from) → \(to)"
        case (let from?, nil): return from
        case (nil, let to?): return to
        case (nil, nil): return nil
        }
    }

    /// `at` as ISO 8601 in UTC with milliseconds, like `2025-03-01T12:00:00.250Z`.
    var timestampText: String {
        NoticeFormatting.timestamp(at)
    }
}

/// Formatting shared by the message builders.
enum NoticeFormatting {
    /// `date` as ISO 8601 in UTC with milliseconds, like `2025-03-01T12:00:00.250Z`.
    static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .gmt)
            .format(date)
    }

    /// A duration for people: whole seconds from 1s on (`4m12s`), milliseconds below (`250ms`).
    static func duration(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        if milliseconds >= 1000 {
            return DurationText.format(.seconds(milliseconds / 1000))
        }
        return DurationText.format(.milliseconds(max(milliseconds, 0)))
    }
}
