import Foundation

/// An event as the log holds it: with its position and the wall-clock time it was appended.
public struct RecordedEvent: Sendable, Hashable, Codable {
    /// Position in the log; strictly increasing.
    public var id: Int64
    /// When it was appended.
    public var time: Date
    /// The fact itself.
    public var event: Event

    /// Creates a recorded event.
    public init(id: Int64, time: Date, event: Event) {
        self.id = id
        self.time = time
        self.event = event
    }

    /// The app the event concerns.
    public var app: String { event.app }
    /// What happened.
    public var kind: EventKind { event.kind }
    /// The instance it concerns, if any.
    public var instance: InstanceID? { event.instance }
    /// Its evidence.
    public var fields: [String: JSONValue] { event.fields }
}
