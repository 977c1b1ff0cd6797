import Foundation
import Logging
import SlipwayCore
import Synchronization

/// How the controller writes its lines: `text` for people, `json` for log pipelines (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// One JSON object per line, with stable keys, for events and log messages alike.
///
/// An event: `{"time": "2026-12-06T17:30:01.234Z", "type": "event", "app": "shop", "kind": "rolloutStarted",
/// "instance": "shop-4", "id": 42, "fields": {…}}` (`instance` only when the event has one). A log message:
/// `{"time": …, "type": "log", "level": "warning", "label": "slipway", "message": "…", "metadata": {…},
/// "source": "SlipwayServer"}`. Keys are sorted, so lines compare byte for byte.
public enum JSONLines {
    /// The line of a recorded event.
    public static func line(_ recorded: RecordedEvent) -> String {
        var object: [String: JSONValue] = [
            "time": .string(timestamp(recorded.time)),
            "type": "event",
            "app": .string(recorded.app),
            "kind": .string(recorded.kind.rawValue),
            "id": .int(Int(recorded.id)),
            "fields": .object(recorded.fields),
        ]
        if let instance = recorded.instance { object["instance"] = .string(instance.rawValue) }
        return encode(.object(object))
    }

    /// The line of a log message (see ``JSONLogLine``).
    public static func line(
        time: Date,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata,
        source: String
    ) -> String {
        JSONLogLine.line(
            time: time,
            level: level.rawValue,
            label: label,
            message: message,
            metadata: metadata.mapValues(value),
            source: source
        )
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        JSONLogLine.timestamp(date)
    }

    private static func value(_ metadata: Logger.MetadataValue) -> JSONValue {
        switch metadata {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(value))
        case .dictionary(let values): return .object(values.mapValues(value))
        }
    }

    private static func encode(_ value: JSONValue) -> String {
        JSONLogLine.encode(value)
    }
}

/// A swift-log handler that writes ``JSONLines`` to a file handle (standard error by default), a whole line at a time.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler for `label` at `level`, writing each line with `output`.
    public init(
        label: String,
        level: Logger.Level = .info,
        output: @escaping @Sendable (String) -> Void = { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        output(
            JSONLines.line(
                time: Date(),
                level: event.level,
                label: label,
                message: event.message.description,
                metadata: merged,
                source: event.source
            )
        )
    }
}
