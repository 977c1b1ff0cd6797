import Foundation
import SlipwayCore
import SlipwayStore

/// Renders events as one readable line each, for terminals and logs.
public enum EventFormatter {
    /// `2026-11-21 19:45:01.234  shop  shop-3    instanceStarted      version=1.0.0 pid=4242 port=40123`
    public static func line(_ recorded: RecordedEvent) -> String {
        let instance = recorded.instance?.rawValue ?? "-"
        let fields = recorded.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\(render($0.value))" }
        return [
            timestamp(recorded.time),
            recorded.app.padding(toLength: max(recorded.app.count, 8), withPad: " ", startingAt: 0),
            instance.padding(toLength: max(instance.count, 10), withPad: " ", startingAt: 0),
            recorded.kind.rawValue.padding(toLength: 21, withPad: " ", startingAt: 0),
            fields.joined(separator: " "),
        ].joined(separator: "  ")
    }

    /// `2026-11-21 19:45:01.234` in UTC.
    public static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text.contains(" ") ? "\"\(text)\"" : text
        case .array(let values): return "[" + values.map(render).joined(separator: " | ") + "]"
        default: return value.description
        }
    }
}
