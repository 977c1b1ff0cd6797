/// How long to wait before replacing an instance, given how many have failed in a row.
///
/// The first failure is replaced at once (a single crash should cost no more than a restart); from the second
/// consecutive failure on the delay doubles from `initial`, capped at `maximum`.
public struct CrashBackoff: Sendable, Equatable {
    /// The delay after the second consecutive failure.
    public var initial: Duration
    /// The largest delay.
    public var maximum: Duration

    /// Creates a backoff policy.
    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before replacing the instance whose failure is the `failures`th in a row.
    public func delay(afterFailures failures: Int) -> Duration {
        guard failures >= 2 else { return .zero }
        var delay = initial
        for _ in 0..<(failures - 2) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
