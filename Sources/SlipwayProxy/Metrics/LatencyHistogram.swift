import Histogram

/// The single layout every latency histogram in the proxy's metrics shares.
///
/// Shards merge and snapshots subtract bucket by bucket, which is only exact when both sides have the same layout,
/// so every histogram is made here.
enum LatencyHistogram {
    /// One hour in microseconds: the longest latency told apart from others.
    static let highestMicroseconds: UInt64 = 3_600_000_000

    /// An empty histogram of microseconds from 1 µs to 1 hour at 3 significant digits.
    static func make() -> Histogram<UInt64> {
        Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: highestMicroseconds,
            numberOfSignificantValueDigits: .three
        )
    }

    /// The histogram value for a latency in nanoseconds.
    ///
    /// Latencies beyond the range count as the longest one rather than being dropped, so that the histogram's count
    /// always equals the number of finished requests.
    @inline(__always)
    static func microseconds(fromNanoseconds nanoseconds: UInt64) -> UInt64 {
        min(nanoseconds / 1_000, highestMicroseconds)
    }

    /// A histogram holding `buckets` (each bucket's top value and count, as `recordedValues()` gives them).
    ///
    /// Each bucket's values are recorded as the bucket's top value, except in the buckets holding `lowest` and
    /// `highest`: those exact values are known, and using them keeps the extremes (and so the quantiles when all values
    /// are alike) as exact as in the histogram the buckets came from.
    static func rebuild(
        _ buckets: [(value: UInt64, count: UInt64)],
        lowest: UInt64,
        highest: UInt64
    ) -> Histogram<UInt64> {
        var result = make()
        for bucket in buckets where bucket.count > 0 {
            var count = bucket.count
            let value = result.valuesAreEquivalent(bucket.value, highest) ? highest : bucket.value
            if value != lowest, result.valuesAreEquivalent(bucket.value, lowest) {
                result.record(lowest)
                count -= 1
            }
            if count > 0 {
                result.record(value, count: count)
            }
        }
        return result
    }
}
