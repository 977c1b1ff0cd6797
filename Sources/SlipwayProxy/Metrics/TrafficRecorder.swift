import NIOCore

/// Counters and latency of one subject (instance, version or unrouted), sharded per event loop.
///
/// The data plane records on the hot path without locks, atomics or allocation: each event loop has its own shard,
/// and a connection only ever records into the shard of the loop it lives on. Readers never touch a shard from
/// outside: ``snapshot()`` runs a copy on each shard's loop and merges the copies. Every access to a shard is thus
/// serialised by its loop, which is what makes the `@unchecked Sendable` conformance sound. Calling a recording
/// method for a loop index from any other thread breaks that rule (debug builds assert it).
public final class TrafficRecorder: @unchecked Sendable {
    private let shards: [TrafficShard]

    /// One shard per loop, in the order of the loop indices that recording calls pass.
    public init(loops: [any EventLoop]) {
        shards = loops.map { TrafficShard(eventLoop: $0) }
    }

    /// On loop `loop` (index): a request was sent toward this subject.
    @inline(__always)
    public func requestStarted(loop: Int) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.requestStarted()
    }

    /// On loop `loop`: its response finished (or failed).
    ///
    /// - Parameters:
    ///   - status: What the client got.
    ///   - proxyGenerated: Marks 502/503/504 made by the proxy itself (connect failure, no instance, timeout),
    ///     counted apart from the app's own.
    ///   - latencyNanoseconds: From request head received to response end.
    @inline(__always)
    public func requestFinished(loop: Int, status: Int, proxyGenerated: Bool, latencyNanoseconds: UInt64) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.requestFinished(status: status, proxyGenerated: proxyGenerated, latencyNanoseconds: latencyNanoseconds)
    }

    /// On loop `loop`: the response of a comparison unit (``ComparisonUnits``) finished after `latencyNanoseconds`;
    /// `bad`: it was a 5xx; `outcomes`: what it reported (``OutcomeHeader``).
    @inline(__always)
    public func unitFinished(
        loop: Int,
        bad: Bool,
        latencyNanoseconds: UInt64,
        outcomes: [(name: String, value: Double)] = []
    ) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.unitFinished(bad: bad, latencyNanoseconds: latencyNanoseconds, outcomes: outcomes)
    }

    /// On loop `loop`: an attempt failed and the request was sent to another instance.
    public func recordRetry(loop: Int) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.recordRetry()
    }

    /// On loop `loop`: an attempt failed and the retry budget allowed no retry.
    public func retryRefused(loop: Int) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.recordRetryRefused()
    }

    /// On loop `loop`: a fault of the proxy affected a request (``InjectedFaults``).
    public func recordInjected(loop: Int, _ kind: FaultSpec.Kind) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.recordInjected(kind)
    }

    /// On loop `loop`: the response just finished reported these outcomes (``OutcomeHeader``).
    public func recordOutcomes(loop: Int, _ outcomes: [(name: String, value: Double)]) {
        let shard = shards[loop]
        shard.eventLoop.assertInEventLoop()
        shard.recordOutcomes(outcomes)
    }

    /// A consistent copy of the cumulative totals, merged across loops.
    ///
    /// Each loop's part is copied in one go on that loop, and a request lives on a single loop, so no request is
    /// seen finished without being seen started. Meant for while the loops run: NIO reports a task submitted to a
    /// stopped loop as an error, though the totals are still read.
    public func snapshot() async -> TrafficSnapshot {
        // All loops copy at once, so a busy loop delays the snapshot once rather than once per loop.
        let copies = shards.indices.map { index in
            shards[index].eventLoop.submit { self.shards[index].snapshot() }
        }
        var total = TrafficSnapshot.empty
        for (shard, copy) in zip(shards, copies) {
            do {
                total.add(try await copy.get())
            } catch {
                // The loop has stopped and refused the task. Nothing writes the shard any more, and the loop's state
                // lock that refused the task orders this read after the loop's last write.
                total.add(shard.snapshot())
            }
        }
        return total
    }
}
