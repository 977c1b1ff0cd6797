import SlipwayCore

/// Where the controller sends its routing decisions, and where it reads the traffic they produced.
///
/// Each listener has a name (an app, or an app's preview listener). Two implementations: ``DataPlane`` in the
/// caller's own process, and ``DataPlaneClient``, which drives a data plane in a process of its own over its control
/// socket, so that serving goes on while no controller runs.
public protocol TrafficRouter: Sendable {
    /// Opens the listener `name`, or keeps it when one already serves `spec`; returns the port it is bound to.
    func open(_ name: String, _ spec: ListenerSpec) async throws -> Int

    /// Closes the listener `name` (nothing when there is none).
    func close(_ name: String) async throws

    /// Replaces the routes of `name`. Instances no longer named take no new request; ``drain(_:instances:timeout:)``
    /// waits for their requests in flight.
    func setRoutes(_ name: String, _ routes: RouteSpec) async throws

    /// Replaces the faults injected into the requests of `name` (an empty list removes them all); the next request
    /// sees the new set. Nothing changes when one is invalid.
    func setFaults(_ name: String, _ faults: [FaultSpec]) async throws

    /// The faults in force on `name` and the requests each affected so far.
    func faults(_ name: String) async throws -> [FaultStatus]

    /// The routes in force for `name`, nil when no such listener is open.
    func routes(_ name: String) async throws -> RouteSpec?

    /// Waits until the named instances have no request in flight on `name`, or `timeout` passes, then forgets them.
    /// Returns the ids still busy at the timeout.
    func drain(_ name: String, instances: [String], timeout: Duration) async throws -> [String]

    /// The cumulative traffic of `name`.
    func sample(_ name: String) async throws -> AppTrafficSample

    /// The targets of the latest successful GET requests of `name`, newest first, at most `limit`.
    func recentRequests(_ name: String, limit: Int) async throws -> [String]

    /// The requests of `name` answered 5xx that ended after `after` (nanoseconds since 1970), oldest first, at most
    /// `limit` (the newest ones).
    func failedRequests(_ name: String, after: Int64, limit: Int) async throws -> [FailedRequest]
}

/// A listener the data plane does not have.
public struct UnknownListener: Error, Sendable, CustomStringConvertible {
    /// Its name.
    public var name: String

    public var description: String { "the data plane has no listener named \"\(name)\"" }
}
