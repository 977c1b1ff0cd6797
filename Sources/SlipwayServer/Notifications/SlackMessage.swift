import Foundation
import SlipwayConfig
import SlipwayCore

/// Slack messages for incoming webhooks, in Block Kit.
///
/// The message has a `text` fallback (the title, shown in notifications) and these blocks:
/// 1. a `header` with the title;
/// 2. a `section` whose `fields` are App, Environment, Version (`1.0.0 → 2.0.0`), Strategy, Started by, Reason,
///    Step, Result and Duration, those the notice has;
/// 3. a `section` listing the failing checks, then the passing ones, with value, threshold and samples, when the
///    notice has checks;
/// 4. a `section` with the details, when the notice has any;
/// 5. a `context` line with the event kind, severity, rollout number and time;
/// 6. an `actions` block with a button to the dashboard, when the notice has a valid http(s) dashboard URL.
///
/// Texts are escaped for Slack's mrkdwn (`&`, `<`, `>`) and shortened with `…` to Slack's limits.
public enum SlackMessage {
    /// The longest header text Slack accepts.
    public static let headerLimit = 150
    /// The longest text of one section field Slack accepts.
    public static let fieldLimit = 2000
    /// The longest text of a section Slack accepts.
    public static let sectionLimit = 3000
    /// The longest fallback text sent (Slack accepts more, but nobody reads it).
    public static let fallbackLimit = 3000
    /// The longest button URL Slack accepts.
    public static let buttonURLLimit = 3000

    /// The JSON body to post to a Slack incoming webhook for `notice`.
    public static func body(for notice: Notice) -> [UInt8] {
        NoticeFormatting.encode(message(for: notice))
    }

    /// The message for `notice` as a JSON value.
    public static func message(for notice: Notice) -> JSONValue {
        var blocks: [JSONValue] = [
            .object([
                "type": "header",
                "text": .object(["type": "plain_text", "text": .string(plain(notice.title, limit: headerLimit))]),
            ])
        ]
        let fields = fieldTexts(notice).map { JSONValue.object(["type": "mrkdwn", "text": .string($0)]) }
        if !fields.isEmpty {
            blocks.append(.object(["type": "section", "fields": .array(fields)]))
        }
        if !notice.checks.isEmpty {
            blocks.append(section(checksText(notice.checks)))
        }
        if !notice.details.isEmpty {
            blocks.append(section(detailsText(notice.details)))
        }
        blocks.append(
            .object([
                "type": "context",
                "elements": .array([.object(["type": "mrkdwn", "text": .string(contextText(notice))])]),
            ])
        )
        let links: [(String, String?)] = [
            ("Open the report", notice.reportURL), ("Open in dashboard", notice.dashboardURL),
        ]
        let buttons: [JSONValue] = links.compactMap { label, url in
            guard let url, SecretURLRules.isHTTPURL(url), url.utf16.count <= buttonURLLimit else { return nil }
            return .object([
                "type": "button",
                "text": .object(["type": "plain_text", "text": .string(label)]),
                "url": .string(url),
            ])
        }
        if !buttons.isEmpty {
            blocks.append(.object(["type": "actions", "elements": .array(buttons)]))
        }
        return .object([
            "text": .string(mrkdwn(notice.title, limit: fallbackLimit)),
            "blocks": .array(blocks),
        ])
    }

    /// The texts of the fields section: `*Label*\nvalue`, for the facts the notice has.
    static func fieldTexts(_ notice: Notice) -> [String] {
        let facts: [(String, String?)] = [
            ("App", notice.app.isEmpty ? nil : notice.app),
            ("Environment", notice.environment),
            ("Version", notice.versionText),
            ("Strategy", notice.strategy),
            ("Started by", notice.startedBy),
            ("Reason", notice.reason),
            ("Step", notice.step),
            ("Result", notice.result),
            ("Duration", notice.duration.map(NoticeFormatting.duration)),
        ]
        return facts.compactMap { label, value in
            guard let value, !value.isEmpty else { return nil }
            let prefix = "*\(escape(label))*\n"
            return prefix + mrkdwn(value, limit: fieldLimit - prefix.utf16.count)
        }
    }

    /// The checks section: failing checks first, then passing ones.
    static func checksText(_ checks: [CheckEvidence]) -> String {
        var lines: [String] = []
        let failing = checks.filter { !$0.passed }
        let passing = checks.filter(\.passed)
        if !failing.isEmpty {
            lines.append("*Failing checks*")
            lines += failing.map(checkLine)
        }
        if !passing.isEmpty {
            lines.append("*Passing checks*")
            lines += passing.map(checkLine)
        }
        return limitEscaped(lines.joined(separator: "\n"), limit: sectionLimit)
    }

    /// One check: `:x: successRate >= 0.99: 0.97 (threshold 0.99, 1200 samples)`, escaped.
    static func checkLine(_ check: CheckEvidence) -> String {
        var evidence = "threshold \(check.threshold)"
        if let samples = check.samples {
            evidence += ", \(samples) \(samples == 1 ? "sample" : "samples")"
        }
        let mark = check.passed ? ":white_check_mark:" : ":x:"
        return "\(mark) `\(escape(codeSafe(check.check)))`: \(escape(check.value)) (\(escape(evidence)))"
    }

    /// The details section: `*name*: value`, or the value in a code block when it spans several lines.
    static func detailsText(_ details: [NoticeDetail]) -> String {
        var lines = ["*Details*"]
        for detail in details {
            let name = "*\(escape(detail.name))*:"
            if detail.value.contains("\n") {
                lines.append(name + "\n```" + escape(codeSafe(detail.value)) + "```")
            } else {
                lines.append(name + " " + escape(detail.value))
            }
        }
        return limitEscaped(lines.joined(separator: "\n"), limit: sectionLimit)
    }

    /// The context line: event kind, severity, rollout number and time.
    static func contextText(_ notice: Notice) -> String {
        var parts = ["Slipway", notice.kind.rawValue, notice.severity.rawValue]
        if let rollout = notice.rollout {
            parts.append("rollout #\(rollout)")
        }
        parts.append(notice.timestampText)
        return mrkdwn(parts.joined(separator: " · "), limit: fieldLimit)
    }

    /// A mrkdwn section block.
    private static func section(_ text: String) -> JSONValue {
        .object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text)])])
    }

    /// `text` with Slack's mrkdwn control characters escaped: `&` as `&amp;`, `<` as `&lt;`, `>` as `&gt;`.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `text` escaped, then shortened to at most `limit` UTF-16 units, ending with `…` when shortened.
    static func mrkdwn(_ text: String, limit: Int) -> String {
        limitEscaped(escape(text), limit: limit)
    }

    /// Plain text shortened to at most `limit` UTF-16 units, ending with `…` when shortened.
    static func plain(_ text: String, limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        return prefix(of: text, units: limit - 1) + "…"
    }

    /// Escaped mrkdwn shortened to at most `limit` UTF-16 units without cutting an escape like `&amp;` in two.
    static func limitEscaped(_ text: String, limit: Int) -> String {
        guard text.utf16.count > limit else { return text }
        var kept = prefix(of: text, units: limit - 1)
        if let ampersand = kept.lastIndex(of: "&"), !kept[ampersand...].contains(";") {
            kept = String(kept[..<ampersand])
        }
        return kept + "…"
    }

    /// The longest prefix of whole characters of `text` within `units` UTF-16 units.
    private static func prefix(of text: String, units: Int) -> String {
        var result = ""
        var count = 0
        for character in text {
            let size = character.utf16.count
            if count + size > units {
                break
            }
            result.append(character)
            count += size
        }
        return result
    }

    /// `text` without backtick runs that would end a code span or block early.
    private static func codeSafe(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "'")
    }
}
