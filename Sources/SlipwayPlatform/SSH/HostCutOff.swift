import Synchronization

/// Whether the controller is cut off from a host by chaos. While it is, every command an ``SSHClient`` of the host
/// runs fails at once the way SSH itself fails when the host cannot be reached (status 255, the reason as SSH's
/// message), and no connection is tried: the controller sees what a network partition would show it. The copies of a
/// client share one switch.
public final class HostCutOff: Sendable {
    private let state = Mutex<String?>(nil)

    /// A switch that is off.
    public init() {}

    /// Why the host is cut off, while it is.
    public var reason: String? { state.withLock { $0 } }

    /// Cuts the host off, for `reason` (`cut off by chaos until 14:02:10`).
    public func begin(_ reason: String) {
        state.withLock { $0 = reason }
    }

    /// Lets commands reach the host again.
    public func end() {
        state.withLock { $0 = nil }
    }
}
