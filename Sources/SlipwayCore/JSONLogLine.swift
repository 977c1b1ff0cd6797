import Foundation

/// A log message as one JSON object on one line, with sorted keys, the shape every Slipway process writes with
/// `--log-format json`: `{"label": …, "level": "warning", "message": "…", "metadata": {…}, "source": "…",
/// "time": "2026-12-06T17:30:01.234Z", "type": "log"}` (`metadata` only when there is some).
public enum JSONLogLine {
    /// The line of a message.
    public static func line(
        time: Date,
        level: String,
        label: String,
        message: String,
        metadata: [String: JSONValue] = [:],
        source: String
    ) -> String {
        var object: [String: JSONValue] = [
            "time": .string(timestamp(time)),
            "type": "log",
            "level": .string(level),
            "label": .string(label),
            "message": .string(message),
            "source": .string(source),
        ]
        if !metadata.isEmpty { object["metadata"] = .object(metadata) }
        return encode(.object(object))
    }

    /// ISO 8601 in UTC with milliseconds.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
        )
    }

    /// `value` as compact JSON with sorted keys.
    public static func encode(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return #"{"type":"log","message":"unencodable line"}"# }
        return String(decoding: data, as: UTF8.self)
    }
}
