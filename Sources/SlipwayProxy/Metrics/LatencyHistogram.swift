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
}
