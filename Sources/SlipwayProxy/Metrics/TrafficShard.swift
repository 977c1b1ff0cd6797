import Histogram
import NIOCore
import SlipwayCore

/// One event loop's part of a ``TrafficRecorder``.
///
/// Only its own loop reads or writes it, so its fields are plain values. Its arrays and histogram are allocated once
/// and never shared: a copy that shared their storage would make the next update on the hot path copy it.
final class TrafficShard {
    /// Codes outside the valid range count as the nearest valid one, so every finished request lands in a class.
    static let statusCodes = 100...599

    let eventLoop: any EventLoop
    private var requests = 0
    private var finished = 0
    /// Index 1...5 counts 1xx...5xx; index 0 stays zero.
    private var responses = [Int](repeating: 0, count: 6)
    /// Responses the proxy made itself, at index `status - 100`.
    private var proxyGenerated = [Int](repeating: 0, count: statusCodes.count)
    private var latency = LatencyHistogram.make()
    /// Outcomes reported by responses (``OutcomeHeader``), by name.
    private var outcomes: [String: OutcomeTally] = [:]
    /// Comparison units finished, and the bad ones among them, with their outcomes and response times.
    private var units = 0
    private var badUnits = 0
    private var unitOutcomes: [String: OutcomeTally] = [:]
    private var unitLatency = OutcomeTally()
    private(set) var retries = 0
    private(set) var retriesRefused = 0
    private var injected = InjectedFaults()

    /// Names beyond this many are not counted, so an app writing ids as outcome names cannot grow the shard.
    static let maximumOutcomeNames = 32

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    @inline(__always)
    func requestStarted() {
        requests += 1
    }

    @inline(__always)
    func requestFinished(status: Int, proxyGenerated isProxyGenerated: Bool, latencyNanoseconds: UInt64) {
        let code = min(max(status, Self.statusCodes.lowerBound), Self.statusCodes.upperBound)
        finished += 1
        responses[code / 100] += 1
        if isProxyGenerated {
            proxyGenerated[code - Self.statusCodes.lowerBound] += 1
        }
        latency.record(LatencyHistogram.microseconds(fromNanoseconds: latencyNanoseconds))
    }

    /// A comparison unit's response finished; `bad`: it was a 5xx; with the outcomes it reported.
    @inline(__always)
    func unitFinished(bad: Bool, latencyNanoseconds: UInt64, outcomes reported: [(name: String, value: Double)]) {
        units += 1
        if bad { badUnits += 1 }
        unitLatency.record(Double(latencyNanoseconds) / 1_000_000)
        for outcome in reported {
            if unitOutcomes[outcome.name] == nil, unitOutcomes.count >= Self.maximumOutcomeNames { continue }
            unitOutcomes[outcome.name, default: OutcomeTally()].record(outcome.value)
        }
    }

    func recordRetry() { retries += 1 }

    func recordRetryRefused() { retriesRefused += 1 }

    func recordInjected(_ kind: FaultSpec.Kind) { injected[kind] += 1 }

    /// A finished response reported these outcomes.
    func recordOutcomes(_ reported: [(name: String, value: Double)]) {
        for outcome in reported {
            if outcomes[outcome.name] == nil, outcomes.count >= Self.maximumOutcomeNames { continue }
            outcomes[outcome.name, default: OutcomeTally()].record(outcome.value)
        }
    }

    /// A copy owning fresh storage; must run on the shard's loop.
    func snapshot() -> TrafficSnapshot {
        var generated: [Int: Int] = [:]
        for (offset, count) in proxyGenerated.enumerated() where count > 0 {
            generated[Self.statusCodes.lowerBound + offset] = count
        }
        var latencyCopy = LatencyHistogram.make()
        latencyCopy.add(latency)
        var snapshot = TrafficSnapshot(
            requests: requests,
            inFlight: requests - finished,
            responses: responses.map { $0 },
            proxyGenerated: generated,
            latency: latencyCopy,
            outcomes: outcomes,
            units: ComparisonUnits(units: units, bad: badUnits, outcomes: unitOutcomes, latency: unitLatency)
        )
        snapshot.retries = retries
        snapshot.retriesRefused = retriesRefused
        snapshot.injected = injected
        return snapshot
    }
}
