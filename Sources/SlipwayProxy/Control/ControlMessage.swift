import SlipwayCore

/// The data plane's control protocol: one JSON object per line over a Unix socket, each request answered by a
/// response with the same `id` (responses may come in any order, since a drain takes a while).
///
/// The first request on a connection must be `hello`, naming the protocol the client speaks; a data plane that
/// speaks another one refuses it with a message saying both, and closes the connection.
public enum ControlProtocol {
    /// The protocol this build speaks. Raised on any incompatible change.
    public static let version = 1
}

/// One operation.
public enum ControlOperation: String, Sendable, Codable {
    case hello, open, close, setRoutes, routes, drain, sample, recent, failures, status, handOver, shutdown
    case setFaults, faults
}

/// A request to the data plane.
struct ControlRequest: Sendable, Codable {
    var id: Int
    var op: ControlOperation
    /// `hello`: the protocol and build the client speaks.
    var protocolVersion: Int?
    var build: String?
    /// The listener most operations act on.
    var name: String?
    var listen: ListenerSpec?
    var routes: RouteSpec?
    /// `setFaults`: the listener's faults from now on.
    var faults: [FaultSpec]?
    var instances: [String]?
    var timeoutMs: Int?
    var limit: Int?
    /// `failures`: only those that ended after this many nanoseconds since 1970.
    var after: Int64?
}

/// The data plane's answer.
struct ControlResponse: Sendable, Codable {
    var id: Int
    /// Set when the request failed; nothing changed then.
    var error: String?
    var port: Int?
    var routes: RouteSpec?
    var busy: [String]?
    var sample: AppTrafficSample?
    var targets: [String]?
    var failures: [FailedRequest]?
    var status: DataPlaneStatus?
    var faults: [FaultStatus]?
}

/// What a data plane tells about itself.
public struct DataPlaneStatus: Sendable, Equatable, Codable {
    /// Its process id.
    public var pid: Int32
    /// The Slipway build it runs.
    public var build: String
    /// The control protocol it speaks.
    public var protocolVersion: Int
    /// When it started, in milliseconds since 1970.
    public var startedAtMs: Int64
    /// Its listeners and where they are bound.
    public var listeners: [String: ListenerSpec]
    /// Operations it has beyond those of its protocol version (`faults`); absent from builds that had none.
    public var features: [String]?

    /// What this build's data plane offers beyond its protocol version.
    public static let currentFeatures = ["faults"]

    /// Creates a status.
    public init(
        pid: Int32,
        build: String,
        protocolVersion: Int,
        startedAtMs: Int64,
        listeners: [String: ListenerSpec],
        features: [String]? = DataPlaneStatus.currentFeatures
    ) {
        self.features = features
        self.pid = pid
        self.build = build
        self.protocolVersion = protocolVersion
        self.startedAtMs = startedAtMs
        self.listeners = listeners
    }
}
