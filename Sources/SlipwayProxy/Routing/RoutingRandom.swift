/// Random draws for the request path.
///
/// `Int.random(in:using:)` called from code generic over the generator runs the standard library's unspecialized
/// version, which looks up type metadata under a lock on every call; one `next()` and a multiply are enough here.
enum RoutingRandom {
    /// A uniformly distributed integer in `0..<bound` (`bound` > 0), by Lemire's multiply-shift. The bias, at most
    /// `bound` / 2^64, is immaterial for the small bounds routing uses.
    @inline(__always)
    static func below(_ bound: Int, using generator: inout some RandomNumberGenerator) -> Int {
        Int(truncatingIfNeeded: generator.next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Whether a request falls in a share of `basisPoints` (of ``TrafficBucket/count``), drawn per request; a share
    /// of all of them draws nothing.
    @inline(__always)
    static func falls(inShare basisPoints: Int, using generator: inout some RandomNumberGenerator) -> Bool {
        basisPoints >= TrafficBucket.count || below(TrafficBucket.count, using: &generator) < basisPoints
    }
}
