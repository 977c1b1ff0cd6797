import SlipwayCore
import Yams

extension KeySchema {
    /// An entry of a `notifications` list.
    static let notificationChannel = KeySchema(
        known: ["name", "slack", "webhook", "events", "severity", "timeout", "retries"]
    )
    /// `slack` or `webhook` in an entry of a `notifications` list.
    static let notificationTarget = KeySchema(known: ["url"])
}

/// A `notifications` list: the channels notices are sent to.
///
/// Nothing under a channel's `url` is ever quoted in a message, as it may be a secret (a Slack webhook URL is one).
extension ConfigDecoder {
    /// A `notifications` list, wherever it is written: the channels whose required keys are valid, in file order.
    /// An empty value is an empty list; nil when the value is not a list. Channel names are unique within the list.
    func notifications(_ entry: Entry) -> [NotificationChannelSpec]? {
        if entry.value.isNull {
            return []
        }
        guard case .sequence(let sequence) = entry.value else {
            report(
                entry.value.location,
                entry.path,
                "expected a list of notification channels, got \(undisclosedDescription(entry.value))"
            )
            return nil
        }
        var channels: [NotificationChannelSpec] = []
        var firstIndex: [String: Int] = [:]
        for (index, element) in sequence.enumerated() {
            let (channel, name) = notificationChannel(element, at: KeyPath.element(entry.path, index))
            if let name {
                if let first = firstIndex[name.value] {
                    let message =
                        "channel name `\(name.value)` is already used by \(KeyPath.element(entry.path, first))"
                    report(name.entry.value.location, name.entry.path, message)
                    continue
                }
                firstIndex[name.value] = index
            }
            if let channel {
                channels.append(channel)
            }
        }
        return channels
    }

    /// One channel; the spec is nil when `name`, `slack`/`webhook` or the URL is missing or invalid.
    private func notificationChannel(
        _ node: Node,
        at path: String
    ) -> (spec: NotificationChannelSpec?, name: (value: String, entry: Entry)?) {
        guard case .mapping = node else {
            let message =
                "expected a mapping with `name` and one of `slack` or `webhook`, got \(undisclosedDescription(node))"
            report(node.location, path, message)
            return (nil, nil)
        }
        guard let fields = fields(of: node, at: path, schema: .notificationChannel) else { return (nil, nil) }
        let name = require("name", in: fields).flatMap { entry in
            string(
                entry,
                matching: NameRules.isAppName,
                expectation: "a channel name of lowercase letters, digits and '-', starting with a letter, "
                    + "at most 63 characters"
            ).map { (value: $0, entry: entry) }
        }
        let target = exactlyOne(
            of: ["slack", "webhook"],
            in: fields,
            advice: "a channel posts to one place; add another channel for the other"
        )
        let url = target.flatMap(notificationURL)
        var events = NotificationChannelSpec.defaultEvents
        if let value = fields["events"].flatMap(notificationEvents) {
            events = value
        }
        var severity = NotificationSeverity.info
        if let value = fields["severity"].flatMap(notificationSeverity) {
            severity = value
        }
        var timeout = NotificationChannelSpec.defaultTimeout
        if let value = fields["timeout"].flatMap(notificationTimeout) {
            timeout = value
        }
        var retries = NotificationChannelSpec.defaultRetries
        if let value = fields["retries"].flatMap({ integer($0, in: NotificationChannelSpec.retriesRange) }) {
            retries = value
        }
        guard let name, let target, let kind = NotificationChannelSpec.Kind(rawValue: target.name), let url else {
            return (nil, name)
        }
        let spec = NotificationChannelSpec(
            name: name.value,
            kind: kind,
            url: url,
            events: events,
            minimumSeverity: severity,
            timeout: timeout,
            retries: retries,
            keyPath: path
        )
        return (spec, name)
    }

    /// `slack` or `webhook`: a mapping with `url`.
    private func notificationURL(_ target: Entry) -> SecretSource? {
        guard case .mapping = target.value else {
            let message =
                "expected a mapping like {url: {env: NAME}}, got \(undisclosedDescription(target.value))"
            report(target.value.location, target.path, message)
            return nil
        }
        guard let fields = fields(of: target.value, at: target.path, schema: .notificationTarget),
            let url = require("url", in: fields)
        else { return nil }
        return secretURL(url)
    }

    /// `events`: a non-empty list of event kinds.
    private func notificationEvents(_ entry: Entry) -> Set<EventKind>? {
        guard case .sequence(let sequence) = entry.value else {
            reportExpected("a list of event kinds like [rolloutStarted, rolloutFinished]", entry)
            return nil
        }
        guard !sequence.isEmpty else {
            reportExpected("at least one event kind", entry)
            return nil
        }
        var kinds: Set<EventKind> = []
        var valid = true
        for (index, node) in sequence.enumerated() {
            let element = Entry.element(node, at: KeyPath.element(entry.path, index))
            guard let kind = eventKind(element) else {
                valid = false
                continue
            }
            if !kinds.insert(kind).inserted {
                report(element.value.location, element.path, "event kind `\(kind.rawValue)` is already listed")
            }
        }
        return valid ? kinds : nil
    }

    /// One element of `events`: the name of an event kind that can be sent.
    private func eventKind(_ element: Entry) -> EventKind? {
        guard let text = element.value.scalarText else {
            reportExpected("an event kind like rolloutStarted", element)
            return nil
        }
        let deliverable = EventKind.allCases.filter { !NotificationChannelSpec.undeliverableEvents.contains($0) }
        guard let kind = EventKind(rawValue: text) else {
            let names = deliverable.map(\.rawValue)
            if let suggestion = KeySuggestion.closest(to: text, among: names) {
                report(
                    element.value.location,
                    element.path,
                    "unknown event kind `\(text)`; did you mean `\(suggestion)`?"
                )
            } else {
                let listed = names.map { "`\($0)`" }.joined(separator: ", ")
                report(element.value.location, element.path, "unknown event kind `\(text)`; expected one of \(listed)")
            }
            return nil
        }
        guard deliverable.contains(kind) else {
            let message =
                "`\(text)` cannot be sent as a notification: a notification about a failed notification could fail "
                + "the same way; failures are recorded in the event log"
            report(element.value.location, element.path, message)
            return nil
        }
        return kind
    }

    /// `severity`: `info`, `warning` or `critical`.
    private func notificationSeverity(_ entry: Entry) -> NotificationSeverity? {
        let expectation = "one of info, warning or critical"
        guard let text = entry.value.scalarText, let severity = NotificationSeverity(rawValue: text) else {
            let suggestion = entry.value.scalarText.flatMap { text in
                KeySuggestion.closest(to: text, among: NotificationSeverity.allCases.map(\.rawValue))
            }
            reportExpected(expectation, entry, hint: suggestion.map { "did you mean `\($0)`?" })
            return nil
        }
        return severity
    }

    /// `timeout`: a duration from 100ms to 60s.
    private func notificationTimeout(_ entry: Entry) -> Duration? {
        guard let timeout = duration(entry, positive: true) else { return nil }
        let range = NotificationChannelSpec.timeoutRange
        guard range.contains(timeout) else {
            let bounds = "\(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound))"
            reportExpected("a duration from \(bounds)", entry)
            return nil
        }
        return timeout
    }
}
