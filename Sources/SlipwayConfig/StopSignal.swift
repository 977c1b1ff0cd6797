#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The signal sent to an instance to ask it to stop gracefully.
public enum StopSignal: String, Sendable, Equatable, CaseIterable {
    /// `SIGTERM`, the default.
    case terminate = "SIGTERM"
    /// `SIGINT`, as sent by Ctrl-C.
    case interrupt = "SIGINT"
    /// `SIGQUIT`.
    case quit = "SIGQUIT"
    /// `SIGHUP`.
    case hangup = "SIGHUP"
    /// `SIGUSR1`.
    case user1 = "SIGUSR1"
    /// `SIGUSR2`.
    case user2 = "SIGUSR2"

    /// The platform's number for this signal.
    public var number: Int32 {
        switch self {
        case .terminate: SIGTERM
        case .interrupt: SIGINT
        case .quit: SIGQUIT
        case .hangup: SIGHUP
        case .user1: SIGUSR1
        case .user2: SIGUSR2
        }
    }

    /// Reads a signal name: `SIGTERM`, `TERM`, `sigterm` and `term` all name `.terminate`.
    public init?(name: String) {
        let upper = name.uppercased()
        let full = upper.hasPrefix("SIG") ? upper : "SIG" + upper
        self.init(rawValue: full)
    }
}
