import SlipwayCore
import SlipwayStore
import Synchronization

/// Hands every new event of the log to the open event streams (`GET /api/v1/stream`).
///
/// The controller's recorder calls ``publish(_:)`` after each append; it never waits for a subscriber. Each
/// subscriber has a bounded buffer: one that falls behind loses its oldest undelivered events, and its
/// ``EventSubscription/takeLoss()`` then says so, so it can read what it lost from the log.
public final class EventBroadcaster: Sendable {
    /// How many undelivered events a subscriber may hold by default.
    public static let defaultBufferSize = 1_000

    private struct State {
        var subscribers: [Int: EventSubscription] = [:]
        var nextID = 0
        var finished = false
    }

    /// How many undelivered events each subscriber may hold.
    public let bufferSize: Int
    private let state = Mutex(State())

    /// A broadcaster whose subscribers each hold at most `bufferSize` undelivered events.
    public init(bufferSize: Int = EventBroadcaster.defaultBufferSize) {
        self.bufferSize = max(1, bufferSize)
    }

    /// Hands `event` to every subscriber. Never blocks on a subscriber.
    public func publish(_ event: RecordedEvent) {
        // Under the lock, so every subscriber sees events in the order they were published.
        state.withLock { state in
            for subscriber in state.subscribers.values { subscriber.deliver(.event(event)) }
        }
    }

    /// A new subscription to the events published from now on; already ended once the broadcaster has finished.
    public func subscribe() -> EventSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: EventSubscription.Item.self,
            bufferingPolicy: .bufferingNewest(bufferSize)
        )
        let subscription = EventSubscription(items: stream, continuation: continuation)
        let id: Int? = state.withLock { state in
            guard !state.finished else { return nil }
            defer { state.nextID += 1 }
            state.subscribers[state.nextID] = subscription
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return subscription
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in _ = state.subscribers.removeValue(forKey: id) }
        }
        return subscription
    }

    /// Ends every subscription, and every later one at once: the server is shutting down.
    public func finish() {
        let subscribers = state.withLock { state in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        // Outside the lock: finishing runs the subscriptions' termination handlers, which take it.
        for subscriber in subscribers { subscriber.cancel() }
    }

    /// The number of open subscriptions.
    public var subscriberCount: Int {
        state.withLock { $0.subscribers.count }
    }
}

/// One subscriber's view of the broadcast: the events published since it subscribed, and keep-alive ticks.
public final class EventSubscription: Sendable {
    /// What a subscription delivers.
    public enum Item: Sendable, Equatable {
        /// A new event.
        case event(RecordedEvent)
        /// Time to tell the client the stream is alive.
        case keepAlive
    }

    /// The items, in publication order.
    public let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let lost = Mutex(false)

    init(items: AsyncStream<Item>, continuation: AsyncStream<Item>.Continuation) {
        self.items = items
        self.continuation = continuation
    }

    /// Whether items were dropped since the last call, because the subscriber fell behind; resets the flag.
    ///
    /// Dropped items are always older than the ones still buffered, so a subscriber that checks after each item
    /// it takes learns of every loss before it reaches the end of what it was sent.
    public func takeLoss() -> Bool {
        lost.withLock { lost in
            defer { lost = false }
            return lost
        }
    }

    /// Adds a keep-alive tick.
    func keepAlive() {
        deliver(.keepAlive)
    }

    /// Ends the subscription.
    public func cancel() {
        continuation.finish()
    }

    fileprivate func deliver(_ item: Item) {
        if case .dropped = continuation.yield(item) {
            lost.withLock { $0 = true }
        }
    }
}
