import SlipwayCore
import SlipwayStore

/// One page of `GET /api/v1/events`: the events and where the next page starts.
public struct EventPage: Sendable, Equatable, Codable {
    /// Which way a page runs.
    public enum Direction: Sendable, Equatable {
        /// Events with an id below `before`, newest first (`nil`: from the newest event on).
        case backward(before: Int64?)
        /// Events with an id above `after` (and below `before`, when given), oldest first.
        case forward(after: Int64, before: Int64? = nil)
    }

    /// The page's events, in the page's direction.
    public var events: [RecordedEvent]
    /// The id to pass as `before` (backward) or `after` (forward) for the following page; null when this page
    /// reached the end of the log.
    public var next: Int64?

    /// The most events one page holds, and the default.
    public static let maximumLimit = 500
    public static let defaultLimit = 100

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode(next, forKey: .next)
    }

    /// Reads one page of `log`, of `app`'s events or of every event.
    public static func read(
        _ log: EventLog,
        app: String?,
        _ direction: Direction,
        limit: Int
    ) throws(StoreError) -> EventPage {
        switch direction {
        case .forward(let after, let before):
            let read = try log.events(app: app, after: after, limit: limit)
            let events = before.map { bound in read.filter { $0.id < bound } } ?? read
            // A page cut short by `before` is the last one of the range.
            let complete = events.count == limit && events.count == read.count
            return EventPage(events: events, next: complete ? events.last?.id : nil)
        case .backward(let before):
            let events = try log.events(app: app, before: before, limit: limit)
            return EventPage(events: events, next: events.count == limit ? events.last?.id : nil)
        }
    }
}
