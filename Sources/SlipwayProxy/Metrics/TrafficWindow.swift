import Histogram
import SlipwayCore

/// Traffic of one subject between two snapshots.
public struct TrafficWindow: Sendable, Equatable {
    /// Responses finished in the window.
    public var requests: Int
    /// 5xx responses, the app's and the proxy's.
    public var errors: Int
    /// Non-5xx responses over finished ones; nil when no response finished.
    public var successRate: Double?
    /// Responses the proxy made itself, by status; statuses it made none of are absent.
    public var proxyGenerated: [Int: Int]
    /// Responses by class: index 1...5 counts 1xx...5xx (index 0 is unused), app-made and proxy-made together.
    public var classes: [Int] = [Int](repeating: 0, count: 6)
    /// Outcomes reported by the window's responses, by name; names no response reported are absent.
    public var outcomes: [String: OutcomeTally] = [:]
    /// Comparison units finished in the window (see ``ComparisonUnits``); nil when the data plane does not count them.
    public var units: ComparisonUnits?
    /// Latencies recorded in the window.
    public var latencyCount: Int
    /// The window's own latencies in microseconds.
    var latencies: Histogram<UInt64>

    init(
        requests: Int,
        errors: Int,
        successRate: Double?,
        proxyGenerated: [Int: Int],
        latencyCount: Int,
        latencies: Histogram<UInt64>
    ) {
        self.requests = requests
        self.errors = errors
        self.successRate = successRate
        self.proxyGenerated = proxyGenerated
        self.latencyCount = latencyCount
        self.latencies = latencies
    }

    /// The window's latencies as (microseconds, count) pairs in ascending order, one per histogram bucket recorded.
    public var latencyBuckets: [(micros: UInt64, count: Int)] {
        latencies.recordedValues().map { ($0.value, Int($0.count)) }
    }

    /// The latency below which `quantile` (0...1, e.g. 0.5 or 0.99) of the window's requests finished, to the
    /// histogram's precision; nil when the window holds no latency.
    public func latency(quantile: Double) -> Duration? {
        guard latencies.totalCount > 0 else {
            return nil
        }
        let clamped = min(max(quantile, 0), 1)
        return .microseconds(latencies.valueAtPercentile(clamped * 100))
    }
}
