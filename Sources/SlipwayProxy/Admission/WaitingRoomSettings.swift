/// An app's waiting room: how many requests may be in flight to its instances, and how the rest wait.
public struct WaitingRoomSettings: Sendable, Equatable, Codable {
    /// Requests in flight to the app's instances together; nil when the limit is per instance.
    public var maxInFlight: Int?
    /// Requests in flight per instance in rotation; the app's limit is this times its instances in rotation.
    public var maxInFlightPerInstance: Int?
    /// The most requests waiting at once; beyond it a request is answered 503 with `Retry-After` at once.
    public var queueSize: Int
    /// How long a request may wait before it is answered 503 with `Retry-After`.
    public var queueTimeoutMs: Int
    /// Whether browsers (GET or HEAD requests that accept `text/html`) get a waiting page showing their place,
    /// which asks again by itself, instead of a held connection.
    public var waitingPage: Bool
    /// How often the waiting page asks again.
    public var pageRefreshMs: Int

    /// Settings; `maxInFlight` or `maxInFlightPerInstance` must be set.
    public init(
        maxInFlight: Int? = nil,
        maxInFlightPerInstance: Int? = nil,
        queueSize: Int = 1000,
        queueTimeoutMs: Int = 10_000,
        waitingPage: Bool = true,
        pageRefreshMs: Int = 2000
    ) {
        self.maxInFlight = maxInFlight
        self.maxInFlightPerInstance = maxInFlightPerInstance
        self.queueSize = queueSize
        self.queueTimeoutMs = queueTimeoutMs
        self.waitingPage = waitingPage
        self.pageRefreshMs = pageRefreshMs
    }

    /// The limit for `instances` in rotation.
    func limit(instances: Int) -> Int {
        if let maxInFlight { return maxInFlight }
        return (maxInFlightPerInstance ?? 1) * max(instances, 1)
    }

    /// The room's own settings, in nanoseconds.
    var roomSettings: WaitingRoom<UInt64>.Settings {
        let refresh = UInt64(pageRefreshMs) * 1_000_000
        return WaitingRoom<UInt64>.Settings(
            queueSize: queueSize,
            queueTimeout: UInt64(queueTimeoutMs) * 1_000_000,
            // A page that missed three refreshes (and five seconds more) has been closed.
            visitorTimeout: 3 * refresh + 5_000_000_000,
            reservationTimeout: refresh + 5_000_000_000
        )
    }
}

/// The waiting room's part of a sample.
public struct WaitingRoomState: Sendable, Equatable, Codable {
    /// Requests waiting now (held and visitors).
    public var waiting: Int
    /// Requests let in and not ended (with slots kept for visitors whose turn came).
    public var inFlight: Int
    /// The limit now.
    public var limit: Int
    /// Let in after waiting.
    public var admittedAfterWaiting: Int
    /// Refused at once because the line was full.
    public var refusedFull: Int
    /// Refused after waiting the queue timeout.
    public var timedOut: Int
    /// Visitors that left before their turn, or did not come back for it.
    public var left: Int
    /// Total and longest wait of those let in, in seconds.
    public var waitedSeconds: Double
    public var longestWaitSeconds: Double

    /// A state.
    public init(
        waiting: Int = 0,
        inFlight: Int = 0,
        limit: Int = 0,
        admittedAfterWaiting: Int = 0,
        refusedFull: Int = 0,
        timedOut: Int = 0,
        left: Int = 0,
        waitedSeconds: Double = 0,
        longestWaitSeconds: Double = 0
    ) {
        self.waiting = waiting
        self.inFlight = inFlight
        self.limit = limit
        self.admittedAfterWaiting = admittedAfterWaiting
        self.refusedFull = refusedFull
        self.timedOut = timedOut
        self.left = left
        self.waitedSeconds = waitedSeconds
        self.longestWaitSeconds = longestWaitSeconds
    }
}
