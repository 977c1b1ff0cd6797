import SlipwayConfig
import SlipwayProxy

extension FaultSpec {
    /// The proxy's fault for a chaos step's, matching every version (both cohorts take the same share); the id and
    /// expiry are the chaos desk's to set.
    init(step fault: ChaosStepSpec.Fault) {
        let kind: Kind
        switch fault.kind {
        case .abort: kind = .abort
        case .delay: kind = .delay
        case .reset: kind = .reset
        case .bandwidth: kind = .bandwidth
        }
        self.init(
            id: "new",
            kind: kind,
            status: fault.status,
            delayMs: fault.delay.map { Int($0.milliseconds) },
            jitterMs: fault.jitter.map { Int($0.milliseconds) },
            bytesPerSecond: fault.bytesPerSecond,
            share: fault.share.basisPoints,
            pathPrefix: fault.pathPrefix,
            method: fault.method,
            header: fault.header.map { HeaderMatch(name: $0.name, value: $0.value) },
            expiresAtMs: 0
        )
    }
}
