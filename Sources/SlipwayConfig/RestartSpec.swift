/// How quickly a crashed instance is restarted (key `restart`).
///
/// After each crash the wait before the next start doubles, from `initialBackoff` up to `maxBackoff`.
public struct RestartSpec: Sendable, Equatable {
    /// The wait before the first restart; greater than 0. Default 1s.
    public var initialBackoff: Duration
    /// The longest wait between restarts; at least `initialBackoff`. Default 30s.
    public var maxBackoff: Duration
    /// An instance that stayed up this long resets the wait to `initialBackoff`; greater than 0. Default 60s.
    public var resetAfter: Duration

    /// Creates a restart policy; every parameter defaults to the value used when the key is absent.
    public init(
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(30),
        resetAfter: Duration = .seconds(60)
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.resetAfter = resetAfter
    }
}
