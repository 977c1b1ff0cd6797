/// Chooses an instance within one version: the one with the fewest requests in flight for its weight.
///
/// An instance's load is (inFlight + 1) / weight; the + 1 counts the request being placed, so that among idle instances
/// the heavier one wins. Loads are compared by cross-multiplication to stay in integers. Instances with weight 0 are
/// never chosen, nor are ejected ones. Instances are read through a buffer pointer so that comparing them costs no reference counting.
enum WeightedLeastOutstanding {
    /// Up to this many instances are all compared; beyond it two random ones are (power of two choices), which keeps
    /// the cost constant and avoids every proxy thread herding onto the same least-loaded instance.
    static let exhaustiveLimit = 8

    /// Caps the in-flight count used in comparisons so that a corrupted counter cannot overflow the multiplication.
    private static let loadCap = 1 << 40

    /// The chosen instance, or nil when none has a weight above 0.
    static func pick(
        from instances: [UpstreamInstance],
        random: inout some RandomNumberGenerator
    ) -> UpstreamInstance? {
        let chosen = instances.withUnsafeBufferPointer { buffer -> Int? in
            switch buffer.count {
            case 0:
                nil
            case 1:
                buffer[0].weight > 0 && !buffer[0].isEjected ? 0 : nil
            case ...exhaustiveLimit:
                scan(buffer, random: &random)
            default:
                twoChoices(buffer, random: &random)
            }
        }
        return chosen.map { instances[$0] }
    }

    /// Compares every instance, starting at a random one so that ties spread across instances.
    private static func scan(
        _ instances: UnsafeBufferPointer<UpstreamInstance>,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        let count = instances.count
        var index = RoutingRandom.below(count, using: &random)
        var best: Candidate?
        for _ in 0..<count {
            if let candidate = Candidate.read(instances, index), candidate.isLighter(than: best) {
                best = candidate
            }
            index += 1
            if index == count {
                index = 0
            }
        }
        return best?.index
    }

    /// Compares two distinct random instances. When either takes no requests there is no real choice left, so all
    /// instances are compared instead.
    private static func twoChoices(
        _ instances: UnsafeBufferPointer<UpstreamInstance>,
        random: inout some RandomNumberGenerator
    ) -> Int? {
        let count = instances.count
        let first = RoutingRandom.below(count, using: &random)
        var second = RoutingRandom.below(count - 1, using: &random)
        if second >= first {
            second += 1
        }
        guard let one = Candidate.read(instances, first), let other = Candidate.read(instances, second) else {
            return scan(instances, random: &random)
        }
        return other.isLighter(than: one) ? other.index : one.index
    }

    /// One instance's weight and load, read once so that a comparison sees consistent values.
    private struct Candidate {
        let index: Int
        let weight: Int
        let load: Int

        /// The instance at `index`, or nil when it takes no new requests.
        @inline(__always)
        static func read(_ instances: UnsafeBufferPointer<UpstreamInstance>, _ index: Int) -> Candidate? {
            let weight = instances[index].weight
            guard weight > 0, !instances[index].isEjected else { return nil }
            let inFlight = min(max(instances[index].inFlight, 0), WeightedLeastOutstanding.loadCap)
            return Candidate(index: index, weight: weight, load: inFlight + 1)
        }

        /// Whether load / weight is strictly below the other's; any candidate is lighter than none.
        func isLighter(than other: Candidate?) -> Bool {
            guard let other else { return true }
            return load * other.weight < other.load * weight
        }
    }
}
