import Histogram
import SlipwayCore

/// Cumulative traffic of one subject since its recorder was made.
///
/// Snapshots only grow; what happened in between two of them is ``window(since:)``.
public struct TrafficSnapshot: Sendable, Equatable {
    /// Requests started.
    public var requests: Int
    /// Requests started and not finished yet.
    public var inFlight: Int
    /// Responses by class: index 1...5 counts 1xx...5xx (index 0 is unused), app-made and proxy-made together.
    public var responses: [Int]
    /// Responses the proxy made itself (502, 503, 504), by status.
    public var proxyGenerated: [Int: Int]
    /// Latency of finished requests in microseconds, 1 µs to 1 hour at 3 significant digits.
    public var latency: Histogram<UInt64>
    /// Outcomes the responses reported, by name.
    public var outcomes: [String: OutcomeTally]
    /// Comparison units (see ``ComparisonUnits``); nil from a data plane that does not count them.
    public var units: ComparisonUnits?
    /// Attempts that failed and were sent again to another instance (the request itself is counted once).
    public var retries = 0
    /// Retries the retry budget did not allow.
    public var retriesRefused = 0
    /// Requests a fault of the proxy affected, apart from the counts above (``InjectedFaults``).
    public var injected = InjectedFaults()

    /// No traffic at all.
    public static let empty = TrafficSnapshot(
        requests: 0,
        inFlight: 0,
        responses: [Int](repeating: 0, count: 6),
        proxyGenerated: [:],
        latency: LatencyHistogram.make(),
        units: ComparisonUnits()
    )

    init(
        requests: Int,
        inFlight: Int,
        responses: [Int],
        proxyGenerated: [Int: Int],
        latency: Histogram<UInt64>,
        outcomes: [String: OutcomeTally] = [:],
        units: ComparisonUnits?
    ) {
        self.requests = requests
        self.inFlight = inFlight
        self.responses = responses
        self.proxyGenerated = proxyGenerated
        self.latency = latency
        self.outcomes = outcomes
        self.units = units
    }

    /// Requests that got their response (or failed).
    var finished: Int { requests - inFlight }

    /// Responses of class `digit`xx; zero for a class the array does not hold.
    func responses(ofClass digit: Int) -> Int {
        responses.indices.contains(digit) ? responses[digit] : 0
    }

    /// What happened between an earlier snapshot and this one.
    ///
    /// Counts are subtracted and the window's latency is the bucket-wise difference of the two histograms, so its
    /// quantiles are exact to the histogram's precision. When this snapshot holds less than `earlier`, the subject's
    /// recorder was replaced in between and everything this snapshot holds counts as the window.
    public func window(since earlier: TrafficSnapshot) -> TrafficWindow {
        let base = continues(earlier) ? earlier : .empty
        let finished = finished - base.finished
        let errors = responses(ofClass: 5) - base.responses(ofClass: 5)
        var generated: [Int: Int] = [:]
        for (status, count) in proxyGenerated {
            let difference = count - (base.proxyGenerated[status] ?? 0)
            if difference > 0 {
                generated[status] = difference
            }
        }
        let latencies = Self.difference(latency, minus: base.latency)
        var window = TrafficWindow(
            requests: finished,
            errors: errors,
            successRate: finished > 0 ? Double(finished - errors) / Double(finished) : nil,
            proxyGenerated: generated,
            latencyCount: Int(latencies.totalCount),
            latencies: latencies
        )
        for digit in 1...5 {
            window.classes[digit] = max(0, responses(ofClass: digit) - base.responses(ofClass: digit))
        }
        for (name, tally) in outcomes {
            let gained = tally.subtracting(base.outcomes[name] ?? OutcomeTally())
            if gained.responses > 0 { window.outcomes[name] = gained }
        }
        if let units, let before = base.units {
            window.units = units.subtracting(before)
        }
        return window
    }

    /// Whether this snapshot could have grown from `earlier`: cumulative counts never shrink.
    private func continues(_ earlier: TrafficSnapshot) -> Bool {
        requests >= earlier.requests && finished >= earlier.finished
            && latency.totalCount >= earlier.latency.totalCount
    }

    /// The values recorded in `later` and not in `earlier`, bucket by bucket, in `later`'s layout.
    private static func difference(_ later: Histogram<UInt64>, minus earlier: Histogram<UInt64>) -> Histogram<UInt64> {
        var buckets: [(value: UInt64, count: UInt64)] = []
        for bucket in later.recordedValues() {
            // Beyond `earlier.max` the earlier histogram recorded nothing (and may not even index the value).
            let before = bucket.value <= earlier.max ? earlier.count(within: bucket.value...bucket.value) : 0
            if bucket.count > before { buckets.append((bucket.value, bucket.count - before)) }
        }
        return LatencyHistogram.rebuild(buckets, lowest: later.min, highest: later.maxRecorded)
    }

    /// Adds another part of the same subject (another loop's shard).
    mutating func add(_ other: TrafficSnapshot) {
        requests += other.requests
        inFlight += other.inFlight
        for digit in 1...5 where responses.indices.contains(digit) {
            responses[digit] += other.responses(ofClass: digit)
        }
        proxyGenerated.merge(other.proxyGenerated, uniquingKeysWith: +)
        latency.add(other.latency)
        outcomes.merge(other.outcomes) { $0.adding($1) }
        retries += other.retries
        retriesRefused += other.retriesRefused
        injected = injected.adding(other.injected)
        // Counted only when every part counts them.
        units = units.flatMap { mine in other.units.map { mine.adding($0) } }
    }
}
