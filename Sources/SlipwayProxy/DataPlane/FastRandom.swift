/// A small, fast pseudo-random generator (SplitMix64) for per-request choices on an event loop.
///
/// The system generator makes a system call per draw; routing draws on every request and needs no secrecy.
struct FastRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An identifier for `X-Request-Id`, written as 16 hex digits (``RequestID``).
    mutating func requestID() -> UInt64 {
        next()
    }
}
