import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import SlipwayConfig
import SlipwayCore
import SlipwayStore

/// Sends notices about every app's events to the app's channels. It never blocks the caller nor fails anything: a
/// notice that cannot be delivered becomes a `notificationFailed` event.
final class Notifier: Sendable {
    private struct State {
        var dispatchers: [String: NotificationDispatcher] = [:]
        /// The checks of each app's last failing judgement, for the notice of the rollout's end.
        var evidence: [String: [CheckEvidence]] = [:]
    }

    private let builder: NoticeBuilder
    private let apps: [String: AppSpec]
    private let channels: [String: [ResolvedChannel]]
    private let state = NIOLockedValueBox(State())

    /// Reads every channel's URL now: a controller does not start with a channel it cannot post to.
    init(
        config: SlipwayConfig,
        dashboard: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ChannelResolutionError) {
        builder = NoticeBuilder(dashboard: dashboard)
        var apps: [String: AppSpec] = [:]
        var channels: [String: [ResolvedChannel]] = [:]
        for app in config.apps {
            apps[app.name] = app
            channels[app.name] = try app.notifications.map { spec throws(ChannelResolutionError) in
                try ResolvedChannel.resolve(spec, environment: environment)
            }
        }
        self.apps = apps
        self.channels = channels
    }

    /// Starts delivering with `client`; failed deliveries are recorded with `recorder`.
    func start(client: HTTPClient, recorder: EventRecorder) {
        var dispatchers: [String: NotificationDispatcher] = [:]
        for (app, channels) in channels where !channels.isEmpty {
            dispatchers[app] = NotificationDispatcher(
                channels: channels,
                httpClient: client,
                onFailure: { failure in
                    recorder.record(
                        Event(
                            app: failure.app,
                            kind: .notificationFailed,
                            fields: [
                                "channel": .string(failure.channel),
                                "event": .string(failure.kind.rawValue),
                                "attempts": .int(failure.attempts),
                                "error": .string(failure.error),
                                "cause": .string(failure.cause.rawValue),
                            ]
                        )
                    )
                }
            )
        }
        state.withLockedValue { $0.dispatchers = dispatchers }
    }

    /// Notifies the channels of the event's app that want it; `status` is the app's status with the event applied.
    func handle(_ event: RecordedEvent, status: AppStatus?) {
        guard let spec = apps[event.app] else { return }
        let severity = NoticeBuilder.severity(of: event)
        let (dispatcher, evidence) = state.withLockedValue { state in
            if event.kind == .rolloutRollingBack || (event.kind == .analysisJudged && event.fields["verdict"] == "fail")
            {
                let checks = NoticeBuilder.checks(in: event.fields)
                if !checks.isEmpty { state.evidence[event.app] = checks }
            } else if event.kind == .rolloutStarted {
                state.evidence[event.app] = nil
            }
            return (state.dispatchers[event.app], state.evidence[event.app] ?? [])
        }
        guard let dispatcher,
            channels[event.app]?.contains(where: { $0.spec.accepts(event.kind, severity: severity) }) == true
        else { return }
        dispatcher.post(builder.notice(for: event, severity: severity, spec: spec, status: status, evidence: evidence))
    }

    /// Lets queued notices go out, for at most `limit`, then stops.
    func shutdown(within limit: Duration) async {
        let dispatchers = state.withLockedValue { state in
            defer { state.dispatchers = [:] }
            return Array(state.dispatchers.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for dispatcher in dispatchers { group.addTask { await dispatcher.shutdown(within: limit) } }
        }
    }
}
