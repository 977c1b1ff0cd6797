import Atomics
import NIOCore
import SlipwayHTTP1

/// A fault made ready for the request path: its deadline on the event loops' clock, its header name's bytes, and a
/// count of the requests it affected that every loop shares.
final class ProxyFault: Sendable {
    /// What happens to a request the fault applies to.
    enum Effect: Sendable, Equatable {
        case abort(status: Int)
        case delay(nanoseconds: Int64, jitterNanoseconds: Int64)
        case reset
        case bandwidth(bytesPerSecond: Int)
    }

    let spec: FaultSpec
    let effect: Effect
    /// When it stops applying, on the loops' clock.
    let deadline: NIODeadline
    /// Requests it affected, across every loop; a request past `maxRequests` is not affected and not counted.
    let affected = ManagedAtomic<Int>(0)

    /// Compiles `spec`, whose expiry is in wall-clock milliseconds, given the wall clock and the loops' clock now.
    init(_ spec: FaultSpec, wallNowMs: Int64, now: NIODeadline) throws(FaultSpecError) {
        try spec.validate()
        self.spec = spec
        switch spec.kind {
        case .abort: effect = .abort(status: spec.status ?? 503)
        case .delay:
            effect = .delay(
                nanoseconds: Int64(spec.delayMs ?? 0) * 1_000_000,
                jitterNanoseconds: Int64(spec.jitterMs ?? 0) * 1_000_000
            )
        case .reset: effect = .reset
        case .bandwidth: effect = .bandwidth(bytesPerSecond: spec.bytesPerSecond ?? 1)
        }
        let remaining = max(0, spec.expiresAtMs - wallNowMs)
        deadline = now + .milliseconds(remaining)
    }

    /// Whether it still applies at `now`.
    func isActive(at now: NIODeadline) -> Bool {
        now < deadline && spec.maxRequests.map { affected.load(ordering: .relaxed) < $0 } ?? true
    }

    /// Whether the request, routed to `version`, is one the fault is about (its share aside).
    func matches(_ head: RequestHead, version: String?) -> Bool {
        if let wanted = spec.version, wanted != version { return false }
        if let method = spec.method, method != head.methodText { return false }
        if let prefix = spec.pathPrefix, !head.target.hasPrefix(prefix) { return false }
        if let header = spec.header {
            let found =
                head.firstValue(named: header.name) { value in
                    RoutingBytes.of(header.value) { RoutingBytes.equal(value, $0) } ? true : nil
                } ?? false
            if !found { return false }
        }
        return true
    }

    /// Takes one of the requests the fault may still affect; false when its bound is reached.
    func claim() -> Bool {
        guard let bound = spec.maxRequests else {
            affected.wrappingIncrement(ordering: .relaxed)
            return true
        }
        // Counted only while below the bound, so `affected` ends at exactly the bound.
        var current = affected.load(ordering: .relaxed)
        while current < bound {
            let (exchanged, original) = affected.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    var status: FaultStatus {
        FaultStatus(spec: spec, affected: affected.load(ordering: .relaxed), active: false)
    }
}

/// The faults of one listener, swapped as one value (readers never lock). Empty almost always, and then a request
/// pays one atomic load for it.
final class FaultSet: Sendable, AtomicReference {
    let faults: [ProxyFault]

    init(_ faults: [ProxyFault]) {
        self.faults = faults
    }

    static let none = FaultSet([])

    var isEmpty: Bool { faults.isEmpty }

    /// The fault that applies to a request routed to `version`: the first one, in the order they were added, that
    /// matches it, is active, wins its draw and has room under its bound. At most one fault applies to a request.
    func draw(
        for head: RequestHead,
        version: String?,
        now: NIODeadline,
        random: inout some RandomNumberGenerator
    ) -> ProxyFault? {
        for fault in faults where now < fault.deadline && fault.matches(head, version: version) {
            guard RoutingRandom.falls(inShare: fault.spec.share, using: &random) else { continue }
            if fault.claim() { return fault }
        }
        return nil
    }
}
