import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

@testable import SlipwayServer

/// `GET /api/v1/stream` and the broadcaster behind it.
@Suite struct EventStreamTests {
    /// One server-sent event as the client reads it.
    struct Frame: Equatable {
        var id: Int64
        var kind: String
        var event: RecordedEvent
    }

    /// The frames (and comments) of a finished stream.
    static func parse(_ text: String) throws -> (frames: [Frame], comments: [String]) {
        var frames: [Frame] = []
        var comments: [String] = []
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            var fields: [String: String] = [:]
            for line in block.split(separator: "\n") {
                if line.hasPrefix(":") {
                    comments.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                    continue
                }
                let parts = line.split(separator: ":", maxSplits: 1)
                fields[String(parts[0])] = parts.count > 1 ? String(parts[1].dropFirst()) : ""
            }
            guard let id = fields["id"].flatMap({ Int64($0) }), let kind = fields["event"], let data = fields["data"]
            else { continue }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { decoder in
                let text = try decoder.singleValueContainer().decode(String.self)
                return try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            }
            frames.append(
                Frame(id: id, kind: kind, event: try decoder.decode(RecordedEvent.self, from: Data(data.utf8)))
            )
        }
        return (frames, comments)
    }

    /// Opens the stream at `uri`, runs `live` once the stream has subscribed, then ends the stream and returns it.
    private func stream(
        _ reading: FixedReading,
        _ uri: String,
        headers: HTTPFields = [:],
        broadcaster: EventBroadcaster = EventBroadcaster(),
        keepAlive: Duration = .seconds(15),
        live: @escaping @Sendable (EventBroadcaster) async throws -> Void
    ) async throws -> (status: HTTPResponse.Status, contentType: String?, text: String) {
        try await apiApplication(reading, broadcaster: broadcaster, keepAlive: keepAlive).test(.router) { client in
            async let answer = client.execute(uri: uri, method: .get, headers: headers) { response in
                (response.status, response.headers[.contentType], String(buffer: response.body))
            }
            try await waitUntil("the stream subscribes", timeout: .seconds(10)) { broadcaster.subscriberCount == 1 }
            try await live(broadcaster)
            broadcaster.finish()
            return try await answer
        }
    }

    @Test func replaysAfterLastEventIDThenGoesLiveWithoutDuplicates() async throws {
        let reading = try FixedReading()
        let history = try reading.appendShopHistory()
        let answer = try await stream(reading, "/api/v1/stream?app=shop", headers: [.lastEventID: "8"]) { broadcaster in
            // Events the replay also reads (appended between subscribing and replaying) arrive live too.
            for event in history.suffix(4) { broadcaster.publish(event) }
            for event in try reading.append([Event.note("cart", 0), Event.note("shop", 1)], startingAt: 20) {
                broadcaster.publish(event)
            }
        }
        #expect(answer.status == .ok)
        #expect(answer.contentType == "text/event-stream; charset=utf-8")
        let frames = try Self.parse(answer.text).frames
        #expect(frames.map(\.id) == [9, 10, 11, 12, 14])
        #expect(
            frames.map(\.kind) == [
                "rolloutStarted", "rolloutPromoted", "trafficShifted", "rolloutFinished", "commandRefused",
            ]
        )
        #expect(frames.first?.event == history[8])
        #expect(answer.text.hasPrefix("id: 9\nevent: rolloutStarted\ndata: {\"event\":{\"app\":\"shop\""))
    }

    @Test func withoutLastEventIDOnlyNewEventsOfEveryAppAreSent() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        let answer = try await stream(reading, "/api/v1/stream") { broadcaster in
            for event in try reading.append([Event.note("cart", 0), Event.note("shop", 1)], startingAt: 20) {
                broadcaster.publish(event)
            }
        }
        #expect(try Self.parse(answer.text).frames.map(\.id) == [13, 14])
    }

    @Test func aSubscriberThatFallsBehindCatchesUpFromTheLog() async throws {
        let reading = try FixedReading()
        let answer = try await stream(
            reading,
            "/api/v1/stream?app=shop",
            headers: [.lastEventID: "0"],
            broadcaster: EventBroadcaster(bufferSize: 1)
        ) { broadcaster in
            for number in 0..<200 {
                for event in try reading.append([Event.note("shop", number)], startingAt: number) {
                    broadcaster.publish(event)
                }
            }
        }
        #expect(try Self.parse(answer.text).frames.map(\.id) == Array(1...200))
    }

    @Test func sendsAKeepAliveComment() async throws {
        let reading = try FixedReading()
        let answer = try await stream(reading, "/api/v1/stream", keepAlive: .milliseconds(20)) { _ in
            try await Task.sleep(for: .milliseconds(1_500))
        }
        let parsed = try Self.parse(answer.text)
        #expect(parsed.frames.isEmpty)
        #expect(parsed.comments.contains("keep-alive"))
    }

    @Test(arguments: [
        (["Last-Event-ID": "abc"], "/api/v1/stream", "header Last-Event-ID: expected an event id, got \"abc\""),
        ([:], "/api/v1/stream?since=3", "unknown query parameter \"since\"; accepted: \"app\""),
    ])
    func badRequestsAre400BeforeStreaming(headers: [String: String], uri: String, message: String) async throws {
        let reading = try FixedReading()
        var headerFields = HTTPFields()
        for (name, value) in headers { headerFields[HTTPField.Name(name)!] = value }
        let fields = headerFields
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: fields) { response in
                #expect(response.status == .badRequest)
                let error = try apiError(response)
                #expect(error.error.message == message)
            }
        }
    }

    @Test func theBroadcasterDeliversInOrderAndForgetsEndedSubscriptions() async throws {
        let broadcaster = EventBroadcaster()
        let subscription = broadcaster.subscribe()
        #expect(broadcaster.subscriberCount == 1)
        let events = (1...3).map { RecordedEvent(id: Int64($0), time: Date(), event: Event.note("shop", $0)) }
        for event in events { broadcaster.publish(event) }
        var iterator = subscription.items.makeAsyncIterator()
        for event in events {
            let next = await iterator.next()
            #expect(next == .event(event))
        }
        #expect(!subscription.takeLoss())
        subscription.cancel()
        #expect(broadcaster.subscriberCount == 0)
    }

    @Test func aFullBufferDropsTheOldestAndSaysSo() async throws {
        let broadcaster = EventBroadcaster(bufferSize: 2)
        let subscription = broadcaster.subscribe()
        let events = (1...5).map { RecordedEvent(id: Int64($0), time: Date(), event: Event.note("shop", $0)) }
        for event in events { broadcaster.publish(event) }
        #expect(subscription.takeLoss())
        #expect(!subscription.takeLoss())
        broadcaster.finish()
        var received: [EventSubscription.Item] = []
        for await item in subscription.items { received.append(item) }
        #expect(received == [.event(events[3]), .event(events[4])])
    }

    @Test func afterFinishEverySubscriptionEnds() async throws {
        let broadcaster = EventBroadcaster()
        let early = broadcaster.subscribe()
        broadcaster.finish()
        let late = broadcaster.subscribe()
        var count = 0
        for await _ in early.items { count += 1 }
        for await _ in late.items { count += 1 }
        #expect(count == 0)
        #expect(broadcaster.subscriberCount == 0)
    }

    @Test func theCursorSendsEachEventOnceEvenOutOfOrder() {
        var cursor = StreamCursor(after: 10)
        // The live part sends 13 before 12; 9 predates the stream, 13 comes again.
        let live = [9, 13, 12, 13].map { cursor.admit($0) }
        #expect(live == [false, true, true, false])
        // Reading the log through 14 sends 11 and 14; 12 and 13 were already out.
        let replayed = [11, 12, 13, 14].map { cursor.admit($0) }
        #expect(replayed == [true, false, false, true])
        cursor.settle(through: 14)
        #expect(cursor.boundary == 14 && cursor.sent.isEmpty)
        let later = [12, 15].map { cursor.admit($0) }
        #expect(later == [false, true])
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
