import SlipwayConfig

/// Which request a warm-up sends next: the synthetic ones first (the spec's paths round-robin, by count or for a
/// duration), then the replayed ones, and nothing once the warm-up's time is up. Pure: time comes in as a value.
struct WarmUpPlan {
    /// Where a request comes from.
    enum Source: Sendable, Equatable {
        case synthetic
        case replay
    }

    /// One request to send.
    struct Request: Sendable, Equatable {
        /// Its place in the order of sending, from 0.
        var index: Int
        var source: Source
        /// Path and query.
        var target: String
    }

    private let paths: [String]
    private let count: Int
    private let syntheticEnd: ContinuousClock.Instant?
    private let replay: [String]
    private let deadline: ContinuousClock.Instant
    private var syntheticSent = 0
    private var replaySent = 0
    private var sent = 0

    /// Whether requests were left unsent because the time was up.
    private(set) var cutShort = false

    /// A plan for a warm-up starting at `start`. Replay targets that are not origin-form (starting with `/`) are left
    /// out, so a replay never sends a request anywhere but to the instance.
    init(spec: WarmUpSpec, replay: [String], start: ContinuousClock.Instant) {
        self.paths = spec.paths
        self.count = spec.duration == nil ? max(0, spec.count) : 0
        self.syntheticEnd = spec.duration.map { start + $0 }
        self.replay = Array(replay.lazy.filter { $0.hasPrefix("/") }.prefix(max(0, spec.replay)))
        self.deadline = start + spec.timeout
    }

    /// The request to send at `now`, or nil when there is none left (or the time is up).
    mutating func next(now: ContinuousClock.Instant) -> Request? {
        guard now < deadline else {
            cutShort = cutShort || hasSyntheticLeft(now: now) || replaySent < replay.count
            return nil
        }
        let request: Request
        if hasSyntheticLeft(now: now) {
            request = Request(index: sent, source: .synthetic, target: paths[syntheticSent % paths.count])
            syntheticSent += 1
        } else if replaySent < replay.count {
            request = Request(index: sent, source: .replay, target: replay[replaySent])
            replaySent += 1
        } else {
            return nil
        }
        sent += 1
        return request
    }

    private func hasSyntheticLeft(now: ContinuousClock.Instant) -> Bool {
        guard !paths.isEmpty else { return false }
        if let syntheticEnd { return now < syntheticEnd }
        return syntheticSent < count
    }
}
