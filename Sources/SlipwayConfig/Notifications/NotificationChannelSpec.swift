import Foundation
import SlipwayCore

/// How serious a notice is; a channel sends notices at or above its minimum severity.
public enum NotificationSeverity: String, Sendable, Comparable, CaseIterable {
    /// Routine progress: a rollout started, moved on or was promoted.
    case info
    /// Something needs attention but nothing is broken yet: a pause, a forced deploy, a crash loop.
    case warning
    /// Something went wrong: a rollback, a failed hook.
    case critical

    /// The severities from least to most serious.
    private static let order: [NotificationSeverity] = [.info, .warning, .critical]

    public static func < (lhs: NotificationSeverity, rhs: NotificationSeverity) -> Bool {
        (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}

/// One place notifications are sent to: an entry of a `notifications` list.
public struct NotificationChannelSpec: Sendable, Equatable {
    /// What a channel posts to, which decides the shape of the message.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// A Slack incoming webhook: Block Kit messages. Key `slack`.
        case slack
        /// Any HTTP endpoint: a flat JSON object. Key `webhook`.
        case webhook
    }

    /// The event kinds a channel sends when `events` is not set.
    public static let defaultEvents: Set<EventKind> = [
        .rolloutStarted, .rolloutPaused, .rolloutPromoted, .rolloutRollingBack, .rolloutFinished, .crashLoopBackoff,
        .hookFinished, .deployForced, .experimentConcluded,
    ]
    /// Event kinds that are never sent: a failed notification would otherwise notify about itself, and fail again.
    public static let undeliverableEvents: Set<EventKind> = [.notificationFailed]
    /// The per-attempt timeout when `timeout` is not set.
    public static let defaultTimeout: Duration = .seconds(5)
    /// The accepted per-attempt timeouts.
    public static let timeoutRange: ClosedRange<Duration> = .milliseconds(100) ... .seconds(60)
    /// The retries when `retries` is not set.
    public static let defaultRetries = 4
    /// The accepted numbers of retries.
    public static let retriesRange: ClosedRange<Int> = 0...10

    /// The channel's name, unique within its list: lowercase letters, digits and '-'. Key `name`.
    public var name: String
    /// Slack or generic webhook. Key `slack` or `webhook`.
    public var kind: Kind
    /// Where the URL to post to comes from. Key `slack.url` or `webhook.url`.
    public var url: SecretSource
    /// The event kinds sent. Key `events`; default ``defaultEvents``.
    public var events: Set<EventKind>
    /// Notices less serious than this are not sent. Key `severity`; default `info` (everything).
    public var minimumSeverity: NotificationSeverity
    /// How long one attempt may take. Key `timeout`; default 5s, 100ms to 60s.
    public var timeout: Duration
    /// How many times a failed attempt is retried. Key `retries`; default 4, 0 to 10.
    public var retries: Int
    /// The key path of the channel in the file, like `apps[0].notifications[1]`, for messages.
    public var keyPath: String

    /// Creates a channel; the defaults are those used when the keys are absent.
    public init(
        name: String,
        kind: Kind,
        url: SecretSource,
        events: Set<EventKind> = NotificationChannelSpec.defaultEvents,
        minimumSeverity: NotificationSeverity = .info,
        timeout: Duration = NotificationChannelSpec.defaultTimeout,
        retries: Int = NotificationChannelSpec.defaultRetries,
        keyPath: String = ""
    ) {
        self.name = name
        self.kind = kind
        self.url = url
        self.events = events
        self.minimumSeverity = minimumSeverity
        self.timeout = timeout
        self.retries = retries
        self.keyPath = keyPath
    }

    /// The key path of the URL, like `notifications[0].slack.url`.
    public var urlKeyPath: String {
        (keyPath.isEmpty ? "" : keyPath + ".") + kind.rawValue + ".url"
    }

    /// Whether a notice of `kind` and `severity` is sent to this channel.
    public func accepts(_ kind: EventKind, severity: NotificationSeverity) -> Bool {
        events.contains(kind) && !Self.undeliverableEvents.contains(kind) && severity >= minimumSeverity
    }
}
