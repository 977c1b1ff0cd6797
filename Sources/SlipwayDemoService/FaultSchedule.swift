/// Which faults the demo service injects into which request: a pure function of the options and the request
/// number.
///
/// Requests are numbered from 1 in the order they are counted; only `GET /` and valid `GET /work` requests count.
public struct FaultSchedule: Sendable, Equatable {
    /// Scale of the error rate's fixed-point form: the rate is kept as a whole number of billionths.
    private static let scale: Int = 1_000_000_000

    /// The error rate in billionths, so that the schedule is exact integer arithmetic.
    private let errorRateBillionths: Int
    /// The conversion rate in billionths.
    private let conversionRateBillionths: Int
    /// Extra latency of every counted request.
    public let latency: Duration
    /// How many of the first requests are slowed by ``slowFirstLatency``.
    public let slowFirst: Int
    /// Extra latency of each of the first ``slowFirst`` requests.
    public let slowFirstLatency: Duration
    /// The request after whose answer the process exits, if any.
    public let crashAfter: Int?
    /// Whether health checks fail from the start.
    public let failHealth: Bool
    /// How many counted requests turn health checks failing, if any.
    public let failHealthAfter: Int?

    /// The schedule the given options describe.
    public init(options: DemoOptions) {
        let rate = min(max(options.errorRate, 0), 1)
        self.errorRateBillionths = Int((rate * Double(Self.scale)).rounded())
        let conversion = min(max(options.conversionRate, 0), 1)
        self.conversionRateBillionths = Int((conversion * Double(Self.scale)).rounded())
        self.latency = options.latency
        self.slowFirst = options.slowFirst
        self.slowFirstLatency = options.slowFirstLatency
        self.crashAfter = options.crashAfter
        self.failHealth = options.failHealth
        self.failHealthAfter = options.failHealthAfter
    }

    /// Whether request `number` is answered with 500.
    ///
    /// Request n fails iff ⌊n·r⌋ > ⌊(n−1)·r⌋, so any n consecutive requests from the first hold exactly ⌊n·r⌋
    /// failures, spread evenly: at 0.25 the 4th, 8th, 12th… fail.
    public func fails(request number: Int) -> Bool {
        Self.spread(number, billionths: errorRateBillionths)
    }

    /// Whether request `number`, when it does not fail, reports the outcome `converted`: spread evenly like the
    /// failures, half a period after them (⌊n·r + ½⌋ > ⌊(n−1)·r + ½⌋), so that equal rates pick different requests:
    /// at 0.25 the 2nd, 6th, 10th… convert.
    public func converts(request number: Int) -> Bool {
        Self.spread(number, billionths: conversionRateBillionths, offset: Self.scale / 2)
    }

    /// Whether request `number` is one of those a rate of `billionths` picks: ⌊n·r + o⌋ > ⌊(n−1)·r + o⌋, with the
    /// offset o in billionths.
    private static func spread(_ number: Int, billionths: Int, offset: Int = 0) -> Bool {
        guard number >= 1, billionths > 0 else { return false }
        // ⌊n·p/S⌋ − ⌊(n−1)·p/S⌋ repeats with period S, so reducing n keeps the products within Int.
        let reduced = (number - 1) % scale + 1
        return (reduced * billionths + offset) / scale > ((reduced - 1) * billionths + offset) / scale
    }

    /// The latency injected into request `number` before it is answered.
    public func extraLatency(request number: Int) -> Duration {
        number <= slowFirst ? latency + slowFirstLatency : latency
    }

    /// Whether the process exits right after answering request `number`.
    public func crashes(afterRequest number: Int) -> Bool {
        crashAfter == number
    }

    /// Whether a health check fails once `count` requests have been counted.
    public func healthFails(afterCounting count: Int) -> Bool {
        if failHealth { return true }
        guard let failHealthAfter else { return false }
        return count >= failHealthAfter
    }
}
