import Foundation
import SlipwayCore

/// One event of a watch: what happened to an object.
public struct WatchEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Nothing changed; the object carries only the resource version the watch has reached.
        case bookmark = "BOOKMARK"
    }

    /// What happened.
    public var kind: Kind
    /// The object as it is now (as it was last, for a deletion).
    public var object: JSONValue

    /// The object's `metadata.resourceVersion`.
    public var resourceVersion: String? { object.metadata?["resourceVersion"]?.stringValue }
}

/// Splits a watch's body into its events: one JSON object per line, in chunks whose boundaries have nothing to do
/// with the lines'.
public struct WatchLines: Sendable {
    private var pending: [UInt8] = []
    /// The longest line kept (an object bigger than this is an error, not a memory leak).
    public let maximum: Int

    /// A buffer for lines of at most `maximum` bytes.
    public init(maximum: Int = 16 * 1024 * 1024) {
        self.maximum = maximum
    }

    /// The complete lines `chunk` ends, without their newlines; empty lines are skipped.
    public mutating func feed(_ chunk: some Sequence<UInt8>) throws(WatchLineTooLong) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                if !pending.isEmpty { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count > maximum { throw WatchLineTooLong(maximum: maximum) }
            }
        }
        return lines
    }

    /// What one line says: an event, or the error the server ended the watch with (`ERROR` with a `Status`).
    public static func decode(_ line: [UInt8], call: String) throws(KubernetesError) -> WatchEvent {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line)), case .object(let fields) = value,
            let type = fields["type"]?.stringValue, let object = fields["object"]
        else {
            throw KubernetesError(
                code: 200,
                message: "a watch event is not {type, object}: \(String(decoding: line.prefix(200), as: UTF8.self))",
                call: call
            )
        }
        if type == "ERROR" { throw KubernetesError(status: object, code: 200, call: call) }
        guard let kind = WatchEvent.Kind(rawValue: type) else {
            throw KubernetesError(code: 200, message: "a watch event of unknown type \(type)", call: call)
        }
        return WatchEvent(kind: kind, object: object)
    }
}

/// A watch event longer than the buffer allows.
public struct WatchLineTooLong: Error, Sendable, CustomStringConvertible {
    /// The limit.
    public var maximum: Int

    public var description: String { "a watch event is longer than \(maximum) bytes" }
}

extension JSONValue {
    /// The value at `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields[key]
    }

    /// An object's `metadata`.
    public var metadata: JSONValue? { self["metadata"] }
}
