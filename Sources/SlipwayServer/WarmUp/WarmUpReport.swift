import SlipwayCore

/// What a warm-up did: how many requests, how they went, and how fast the instance answered, first and last.
public struct WarmUpReport: Sendable, Equatable {
    /// Synthetic requests sent and finished (answered or failed).
    public var synthetic: Int
    /// Replayed requests sent and finished (answered or failed).
    public var replayed: Int
    /// Requests that failed: no connection, no complete answer within the per-request timeout, or a 5xx status.
    public var failures: Int
    /// Requests still in flight when the warm-up's timeout cut it short; neither answered nor failed.
    public var abandoned: Int
    /// Answers by status class: 2 → how many 2xx, and so on.
    public var responsesByClass: [Int: Int]
    /// From the first request sent to the last one finished.
    public var took: Duration
    /// Whether the warm-up's timeout cut it short, leaving requests unsent or unanswered.
    public var timedOut: Bool
    /// Latency quantiles of the answered requests (nil when none was answered).
    public var latencyP50: Duration?
    public var latencyP99: Duration?
    public var latencyMax: Duration?
    /// Mean latency of the first tenth of the answered requests, in the order they were sent (at least one request):
    /// compared with ``lateMeanLatency`` it shows what the warm-up absorbed.
    public var earlyMeanLatency: Duration?
    /// Mean latency of the last tenth of the answered requests, in the order they were sent (at least one request).
    public var lateMeanLatency: Duration?

    /// The fields of the `instanceWarmedUp` event; durations as whole milliseconds (`…Ms`).
    public var fields: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "synthetic": .int(synthetic),
            "replayed": .int(replayed),
            "failures": .int(failures),
            "timedOut": .bool(timedOut),
            "tookMs": .int(Int(took.milliseconds)),
        ]
        if abandoned > 0 { fields["abandoned"] = .int(abandoned) }
        for (statusClass, count) in responsesByClass {
            fields["responses\(statusClass)xx"] = .int(count)
        }
        let latencies = [
            ("p50Ms", latencyP50), ("p99Ms", latencyP99), ("maxMs", latencyMax),
            ("earlyMeanMs", earlyMeanLatency), ("lateMeanMs", lateMeanLatency),
        ]
        for (key, latency) in latencies {
            if let latency { fields[key] = .int(Int(latency.milliseconds)) }
        }
        return fields
    }
}

extension WarmUpReport {
    /// How one request ended.
    enum Outcome: Sendable, Equatable {
        /// The instance answered with this status, after this long.
        case answered(status: Int, latency: Duration)
        /// No connection, or no complete answer in time.
        case failed
        /// Still in flight when the warm-up's time was up.
        case abandoned
    }

    /// The report of requests that ended as `outcomes`.
    init(outcomes: [(request: WarmUpPlan.Request, outcome: Outcome)], took: Duration, cutShort: Bool) {
        let outcomes = outcomes.sorted { $0.request.index < $1.request.index }
        var synthetic = 0
        var replayed = 0
        var failures = 0
        var abandoned = 0
        var responsesByClass: [Int: Int] = [:]
        var latencies: [Duration] = []
        for (request, outcome) in outcomes {
            switch outcome {
            case .answered(let status, let latency):
                responsesByClass[status / 100, default: 0] += 1
                latencies.append(latency)
                if status >= 500 { failures += 1 }
            case .failed:
                failures += 1
            case .abandoned:
                abandoned += 1
                continue
            }
            switch request.source {
            case .synthetic: synthetic += 1
            case .replay: replayed += 1
            }
        }
        self.synthetic = synthetic
        self.replayed = replayed
        self.failures = failures
        self.abandoned = abandoned
        self.responsesByClass = responsesByClass
        self.took = took
        self.timedOut = cutShort || abandoned > 0
        let tenth = max(1, latencies.count / 10)
        self.earlyMeanLatency = Self.mean(latencies.prefix(tenth))
        self.lateMeanLatency = Self.mean(latencies.suffix(tenth))
        let sorted = latencies.sorted()
        self.latencyP50 = Self.quantile(0.5, of: sorted)
        self.latencyP99 = Self.quantile(0.99, of: sorted)
        self.latencyMax = sorted.last
    }

    /// Nearest rank: the smallest value with at least `q` of the values at or below it.
    private static func quantile(_ q: Double, of sorted: [Duration]) -> Duration? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    private static func mean(_ values: ArraySlice<Duration>) -> Duration? {
        guard !values.isEmpty else { return nil }
        return values.reduce(.zero, +) / values.count
    }
}
