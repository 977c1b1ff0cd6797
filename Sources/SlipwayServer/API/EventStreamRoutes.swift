import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import SlipwayCore
import SlipwayStore

/// `GET /api/v1/stream`: the event log as server-sent events, for `status --watch` and the dashboard.
///
/// Each event is sent as `id: <id>`, `event: <kind>`, `data: <the event's JSON>`. With `Last-Event-ID` the stream
/// first replays what the log holds after that id, then goes on live; without it, it starts with the next event.
/// It subscribes before it reads the log, so no event falls between the replay and the live part, and it skips
/// the live events the replay already sent. A `: keep-alive` comment goes out every `keepAliveInterval`. The
/// stream ends when the client goes away, the broadcaster finishes, or the server shuts down gracefully.
public struct EventStreamRoutes: Sendable {
    /// The events in one read of the log while replaying.
    static let replayPage = 500

    /// The configured apps and the log.
    public let reading: any ControllerReading
    /// Where live events come from.
    public let broadcaster: EventBroadcaster
    /// The time between keep-alive comments.
    public let keepAliveInterval: Duration

    /// Creates the route over `reading`'s log and `broadcaster`'s live events.
    public init(
        reading: any ControllerReading,
        broadcaster: EventBroadcaster,
        keepAliveInterval: Duration = .seconds(15)
    ) {
        self.reading = reading
        self.broadcaster = broadcaster
        self.keepAliveInterval = keepAliveInterval
    }

    /// Adds the endpoint to `group`, which is mounted at `/api/v1`.
    public func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("stream") { request, _ in
            let app: String?
            let lastEventID: Int64?
            do {
                app = try QueryParameters(request, accepting: ["app"]).string("app")
                if let app { try known(app) }
                lastEventID = try Self.lastEventID(request)
            } catch let refusal as CommandRefusal {
                return APIError.response(refusal)
            } catch let error as StoreError {
                return APIError.response(error)
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    let subscription = broadcaster.subscribe()
                    defer { subscription.cancel() }
                    try await withGracefulShutdownHandler {
                        try await stream(app: app, after: lastEventID, subscription, to: &writer)
                    } onGracefulShutdown: {
                        subscription.cancel()
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// Replays, then relays live events until the subscription ends.
    private func stream(
        app: String?,
        after lastEventID: Int64?,
        _ subscription: EventSubscription,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        let log = reading.log
        var cursor = StreamCursor(after: try lastEventID ?? log.newestID(app: app))
        try await catchUp(log, app: app, &cursor, to: &writer)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [keepAliveInterval] in
                while true {
                    try await Task.sleep(for: keepAliveInterval)
                    subscription.keepAlive()
                }
            }
            defer { group.cancelAll() }
            for await item in subscription.items {
                if subscription.takeLoss() {
                    // Fell behind and lost events: the log has them all.
                    try await catchUp(log, app: app, &cursor, to: &writer)
                }
                switch item {
                case .keepAlive:
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                case .event(let event):
                    guard app == nil || event.app == app, cursor.admit(event.id) else { continue }
                    try await writer.write(try Self.frame(event))
                }
            }
        }
    }

    /// Sends what the log holds after the cursor's boundary and was not sent yet.
    private func catchUp(
        _ log: EventLog,
        app: String?,
        _ cursor: inout StreamCursor,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var after = cursor.boundary
        while true {
            let page = try log.events(app: app, after: after, limit: Self.replayPage)
            for event in page where cursor.admit(event.id) {
                try await writer.write(try Self.frame(event))
            }
            guard let last = page.last else { break }
            after = last.id
            cursor.settle(through: last.id)
            if page.count < Self.replayPage { break }
        }
    }

    private func known(_ app: String) throws {
        if reading.configuredApps().contains(where: { $0.name == app }) { return }
        guard try reading.log.apps().contains(app) else {
            throw CommandRefusal(.notFound, "no app named \"\(app)\"")
        }
    }

    /// The `Last-Event-ID` header: the id of the last event the client has.
    static func lastEventID(_ request: Request) throws(CommandRefusal) -> Int64? {
        guard let name = HTTPField.Name("Last-Event-ID"), let text = request.headers[name] else { return nil }
        guard let id = Int64(text.trimmingCharacters(in: .whitespaces)), id >= 0 else {
            throw CommandRefusal(.badRequest, "header Last-Event-ID: expected an event id, got \"\(text)\"")
        }
        return id
    }

    /// One event as a server-sent event.
    static func frame(_ event: RecordedEvent) throws -> ByteBuffer {
        let json = String(decoding: try APIJSON.encode(event), as: UTF8.self)
        return ByteBuffer(string: "id: \(event.id)\nevent: \(event.kind.rawValue)\ndata: \(json)\n\n")
    }
}
