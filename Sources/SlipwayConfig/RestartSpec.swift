/// How quickly a crashed instance is restarted, and how often every instance is replaced on purpose (key `restart`).
///
/// After each crash the wait before the next start doubles, from `initialBackoff` up to `maxBackoff`.
public struct RestartSpec: Sendable, Equatable {
    /// The wait before the first restart; greater than 0. Default 1s.
    public var initialBackoff: Duration
    /// The longest wait between restarts; at least `initialBackoff`. Default 30s.
    public var maxBackoff: Duration
    /// An instance that stayed up this long resets the wait to `initialBackoff`; greater than 0. Default 60s.
    public var resetAfter: Duration
    /// Every instance is replaced, one at a time with no downtime, once the stable release's instances are this
    /// old (key `every`, at least 10s); nil (the default) for never.
    public var every: Duration?
    /// When such a scheduled restart may start, written as deploy windows (key `window`); nil for any time.
    public var window: DeployWindowsSpec?

    /// Creates a restart policy; every parameter defaults to the value used when the key is absent.
    public init(
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(30),
        resetAfter: Duration = .seconds(60),
        every: Duration? = nil,
        window: DeployWindowsSpec? = nil
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.resetAfter = resetAfter
        self.every = every
        self.window = window
    }
}
