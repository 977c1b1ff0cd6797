import SlipwayCore

/// What the executor learns about one instance, from the platform and the health checks. The same facts go to
/// whichever machine owns the instance (``SupervisorMachine`` between rollouts, ``RolloutMachine`` during one).
public enum InstanceFact: Sendable, Equatable {
    /// The platform started the instance.
    case started(InstanceID)
    /// The platform could not start the instance.
    case startFailed(InstanceID, reason: String)
    /// The instance passed its health check.
    case healthy(InstanceID)
    /// The instance is failing its health check.
    case unhealthy(InstanceID)
    /// The instance did not become healthy before its start deadline.
    case failedToStart(InstanceID, reason: String)
    /// The instance stayed unhealthy for its whole grace period.
    case stayedUnhealthy(InstanceID, reason: String)
    /// The instance's process ended with `status`.
    case exited(InstanceID, status: String)

    /// The instance the fact is about.
    public var id: InstanceID {
        switch self {
        case .started(let id), .startFailed(let id, _), .healthy(let id), .unhealthy(let id),
            .failedToStart(let id, _), .stayedUnhealthy(let id, _), .exited(let id, _):
            return id
        }
    }
}

/// Spelling an instance fact directly as a machine's input.
public protocol InstanceFactInput {
    /// The input carrying `fact`.
    static func instance(_ fact: InstanceFact) -> Self
}

extension InstanceFactInput {
    /// ``InstanceFact/started(_:)``.
    public static func started(_ id: InstanceID) -> Self { instance(.started(id)) }
    /// ``InstanceFact/startFailed(_:reason:)``.
    public static func startFailed(_ id: InstanceID, reason: String) -> Self {
        instance(.startFailed(id, reason: reason))
    }
    /// ``InstanceFact/healthy(_:)``.
    public static func healthy(_ id: InstanceID) -> Self { instance(.healthy(id)) }
    /// ``InstanceFact/unhealthy(_:)``.
    public static func unhealthy(_ id: InstanceID) -> Self { instance(.unhealthy(id)) }
    /// ``InstanceFact/failedToStart(_:reason:)``.
    public static func failedToStart(_ id: InstanceID, reason: String) -> Self {
        instance(.failedToStart(id, reason: reason))
    }
    /// ``InstanceFact/stayedUnhealthy(_:reason:)``.
    public static func stayedUnhealthy(_ id: InstanceID, reason: String) -> Self {
        instance(.stayedUnhealthy(id, reason: reason))
    }
    /// ``InstanceFact/exited(_:status:)``.
    public static func exited(_ id: InstanceID, status: String) -> Self { instance(.exited(id, status: status)) }
}
