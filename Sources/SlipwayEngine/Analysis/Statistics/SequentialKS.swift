import Foundation

/// An anytime-valid two-sample Kolmogorov–Smirnov test, one-sided: is the candidate's latency distribution slower
/// than the baseline's?
///
/// Each version's empirical distribution function stays, at every moment at once, within a time-uniform DKW band of
/// its true one (Howard & Ramdas, "Sequential estimation of quantiles with applications to A/B-testing and
/// best-arm identification", Bernoulli 2022): ε_t = 0.85 √((log(1 + log(t / m)) + 0.8 log(1612 / α')) / t) for
/// t ≥ m = 100 samples, each version's band at α' = α / 2. When the baseline's distribution function exceeds the
/// candidate's by more than both bands together at some latency, the candidate is slower than the baseline with
/// probability at least 1 − α. A supremum over the proxy's histogram bucket edges is still valid, so it runs on the
/// histograms. It finds shifts of the whole distribution; a slow tail of a few percent is the `latency` comparison's.
public struct SequentialKS: Sendable, Equatable {
    /// The level.
    public let alpha: Double
    /// Latencies of each version so far.
    public private(set) var candidate = LatencyCounts()
    public private(set) var baseline = LatencyCounts()
    /// Whether the bands have ever separated (the decision stands once made).
    public private(set) var everSeparated = false

    /// The fewest samples a band is defined for.
    public static let minimumSamples = 100

    /// A test at level `alpha`.
    public init(alpha: Double) {
        precondition(alpha > 0 && alpha < 1, "alpha must be in (0, 1), not \(alpha)")
        self.alpha = alpha
    }

    /// Adds one window's latencies of both versions.
    public mutating func observe(candidate: LatencyCounts, baseline: LatencyCounts) {
        self.candidate = self.candidate.adding(candidate)
        self.baseline = self.baseline.adding(baseline)
        if separation > band { everSeparated = true }
    }

    /// The half-width of one version's band after `samples` samples at level `level`; infinity below the minimum.
    public static func epsilon(samples: Int, level: Double) -> Double {
        guard samples >= minimumSamples else { return .infinity }
        let t = Double(samples)
        let m = Double(minimumSamples)
        return 0.85 * ((log(1 + log(t / m)) + 0.8 * log(1612 / level)) / t).squareRoot()
    }

    /// Both bands together.
    public var band: Double {
        Self.epsilon(samples: candidate.total, level: alpha / 2)
            + Self.epsilon(samples: baseline.total, level: alpha / 2)
    }

    /// The largest amount by which the baseline's distribution function exceeds the candidate's, and where.
    public var largestGap: (gap: Double, at: Duration?) {
        let candidateTotal = Double(candidate.total)
        let baselineTotal = Double(baseline.total)
        guard candidateTotal > 0, baselineTotal > 0 else { return (0, nil) }
        let edges = Array(Set(candidate.micros + baseline.micros)).sorted()
        var candidateIndex = 0
        var baselineIndex = 0
        var candidateBelow = 0
        var baselineBelow = 0
        var best = (gap: 0.0, at: Duration?.none)
        for edge in edges {
            while candidateIndex < candidate.micros.count, candidate.micros[candidateIndex] <= edge {
                candidateBelow += candidate.counts[candidateIndex]
                candidateIndex += 1
            }
            while baselineIndex < baseline.micros.count, baseline.micros[baselineIndex] <= edge {
                baselineBelow += baseline.counts[baselineIndex]
                baselineIndex += 1
            }
            let gap = Double(baselineBelow) / baselineTotal - Double(candidateBelow) / candidateTotal
            if gap > best.gap { best = (gap, .microseconds(Int64(edge))) }
        }
        return best
    }

    /// sup over latencies of (baseline's distribution function − candidate's).
    public var separation: Double { largestGap.gap }

    /// Whether the candidate is shown slower than the baseline, at level `alpha`.
    public var harmful: Bool { everSeparated }
}
