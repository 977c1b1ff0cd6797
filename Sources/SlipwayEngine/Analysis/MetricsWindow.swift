import SlipwayConfig
import SlipwayCore

/// What the proxy measured of one version over one window.
public struct VersionWindow: Sendable, Equatable {
    /// Responses finished in the window.
    public var requests: Int
    /// 5xx responses among them.
    public var errors: Int
    /// Latency quantiles of the window (`p50` ... `p999`); absent when no latency was recorded.
    public var latencies: [AnalysisMetric: Duration]
    /// Responses by class: index 1...5 counts 1xx...5xx (index 0 is unused); empty when not measured.
    public var classes: [Int]
    /// Every latency of the window, bucketed; empty when not measured.
    public var latencyCounts: LatencyCounts
    /// Outcomes the responses reported (the `X-Slipway-Outcome` header), by name.
    public var outcomes: [String: OutcomeTally]
    /// The comparison units the data plane counted (``ComparisonUnits``); nil when it does not count them.
    public var units: ComparisonUnits?

    /// Creates a window of one version.
    public init(
        requests: Int,
        errors: Int,
        latencies: [AnalysisMetric: Duration] = [:],
        classes: [Int] = [],
        latencyCounts: LatencyCounts = LatencyCounts(),
        outcomes: [String: OutcomeTally] = [:],
        units: ComparisonUnits? = nil
    ) {
        self.requests = requests
        self.errors = errors
        self.latencies = latencies
        self.classes = classes
        self.latencyCounts = latencyCounts
        self.outcomes = outcomes
        self.units = units
    }

    /// Responses of class `digit`xx (0 when not measured).
    public func responses(ofClass digit: Int) -> Int {
        classes.indices.contains(digit) ? classes[digit] : 0
    }

    /// The value of `metric` in this window: rates as fractions, latencies in seconds; nil when nothing was
    /// measured.
    public func value(of metric: AnalysisMetric) -> Double? {
        switch metric {
        case .requests:
            return Double(requests)
        case .successRate:
            return requests > 0 ? Double(requests - errors) / Double(requests) : nil
        case .errorRate:
            return requests > 0 ? Double(errors) / Double(requests) : nil
        case .p50, .p90, .p95, .p99, .p999:
            return latencies[metric].map(\.inSeconds)
        case .query:
            // A query's value is the window's, not one version's: see ``MetricsWindow/queries``.
            return nil
        }
    }
}

/// Every version's traffic between two samples of the proxy's counters.
public struct MetricsWindow: Sendable, Equatable {
    /// When the window began.
    public var start: Moment
    /// When it ended.
    public var end: Moment
    /// Traffic by version; versions with no traffic may be absent.
    public var versions: [String: VersionWindow]
    /// The answers of the PromQL queries the rollout asked for at the end of the window (``RolloutMachine/queries``).
    public var queries: [QueryRequest: QueryAnswer]
    /// What the app's waiting room did in the window; nil when the app has none.
    public var admission: AdmissionWindow?

    /// Creates a window.
    public init(
        start: Moment,
        end: Moment,
        versions: [String: VersionWindow],
        queries: [QueryRequest: QueryAnswer] = [:],
        admission: AdmissionWindow? = nil
    ) {
        self.start = start
        self.end = end
        self.versions = versions
        self.queries = queries
        self.admission = admission
    }

    /// The window of `version`, empty when it had no traffic.
    public subscript(version: String) -> VersionWindow {
        versions[version] ?? VersionWindow(requests: 0, errors: 0)
    }
}

/// A PromQL query as configured (with its placeholders), to be asked about one version: `{version}` is filled in
/// with it.
public struct QueryRequest: Sendable, Hashable {
    /// The query as configured.
    public var query: String
    /// The version it asks about.
    public var version: String

    /// A request.
    public init(_ query: String, version: String) {
        self.query = query
        self.version = version
    }
}

/// What a metric source answered to one query.
public enum QueryAnswer: Sendable, Equatable {
    /// One number.
    case value(Double)
    /// No number, and why: an error, no data, more than one series, a timeout. Never a pass.
    case unavailable(String)
}

/// Latencies counted per histogram bucket: how many requests took each (bucketed) time.
public struct LatencyCounts: Sendable, Equatable {
    /// Bucket values in microseconds, ascending.
    public private(set) var micros: [UInt64]
    /// Requests per bucket.
    public private(set) var counts: [Int]

    /// Counts from (microseconds, count) pairs in any order.
    public init(_ buckets: [(micros: UInt64, count: Int)] = []) {
        var merged: [UInt64: Int] = [:]
        for bucket in buckets where bucket.count > 0 { merged[bucket.micros, default: 0] += bucket.count }
        micros = merged.keys.sorted()
        counts = micros.map { merged[$0]! }
    }

    /// Requests counted.
    public var total: Int { counts.reduce(0, +) }

    /// Requests slower than `limit`.
    public func count(slowerThan limit: Duration) -> Int {
        let bound = limit.microsecondsRoundedDown
        var sum = 0
        for (index, value) in micros.enumerated() where value > bound { sum += counts[index] }
        return sum
    }

    /// The latency below which `quantile` (0...1) of the requests finished; nil when there are none.
    public func latency(quantile: Double) -> Duration? {
        let total = total
        guard total > 0 else { return nil }
        let rank = max(1, Int((min(max(quantile, 0), 1) * Double(total)).rounded(.up)))
        var seen = 0
        for (index, value) in micros.enumerated() {
            seen += counts[index]
            if seen >= rank { return .microseconds(Int64(value)) }
        }
        return micros.last.map { .microseconds(Int64($0)) }
    }

    /// Both sets of counts together (a merge of the two sorted lists).
    public func adding(_ other: LatencyCounts) -> LatencyCounts {
        if other.micros.isEmpty { return self }
        if micros.isEmpty { return other }
        var merged = LatencyCounts()
        merged.micros.reserveCapacity(micros.count + other.micros.count)
        merged.counts.reserveCapacity(micros.count + other.micros.count)
        var left = 0
        var right = 0
        while left < micros.count || right < other.micros.count {
            let takeLeft = right == other.micros.count || (left < micros.count && micros[left] <= other.micros[right])
            let value = takeLeft ? micros[left] : other.micros[right]
            let count = takeLeft ? counts[left] : other.counts[right]
            if takeLeft { left += 1 } else { right += 1 }
            if merged.micros.last == value {
                merged.counts[merged.counts.count - 1] += count
            } else {
                merged.micros.append(value)
                merged.counts.append(count)
            }
        }
        return merged
    }
}

extension Duration {
    /// Whole microseconds, rounded down.
    var microsecondsRoundedDown: UInt64 {
        let parts = components
        guard parts.seconds >= 0 else { return 0 }
        return UInt64(parts.seconds) * 1_000_000 + UInt64(parts.attoseconds / 1_000_000_000_000)
    }
}
