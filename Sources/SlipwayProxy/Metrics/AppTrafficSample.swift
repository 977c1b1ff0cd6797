/// One app's traffic as the proxy saw it: per version and per instance, plus requests no instance could take.
///
/// All snapshots are cumulative; a window is the difference of two samples.
public struct AppTrafficSample: Sendable {
    /// The app's name.
    public var app: String
    /// When the snapshots were taken.
    public var takenAt: ContinuousClock.Instant
    /// Traffic by version.
    public var versions: [String: TrafficSnapshot]
    /// Traffic by instance id.
    public var instances: [String: InstanceTraffic]
    /// 503s with no instance to send to.
    public var unrouted: TrafficSnapshot
    /// What outlier detection holds now and did lately.
    public var outliers: OutlierState
    /// The waiting room's line and counts, when the app has one.
    public var waitingRoom: WaitingRoomState?

    /// Traffic of one instance and the version it runs.
    public struct InstanceTraffic: Sendable {
        /// The version the instance runs.
        public var version: String
        /// The instance's traffic.
        public var traffic: TrafficSnapshot

        /// An instance of `version` and its traffic.
        public init(version: String, traffic: TrafficSnapshot) {
            self.version = version
            self.traffic = traffic
        }
    }

    /// A sample of `app` taken at `takenAt`.
    public init(
        app: String,
        takenAt: ContinuousClock.Instant,
        versions: [String: TrafficSnapshot] = [:],
        instances: [String: InstanceTraffic] = [:],
        unrouted: TrafficSnapshot = .empty,
        outliers: OutlierState = OutlierState(),
        waitingRoom: WaitingRoomState? = nil
    ) {
        self.app = app
        self.takenAt = takenAt
        self.versions = versions
        self.instances = instances
        self.unrouted = unrouted
        self.outliers = outliers
        self.waitingRoom = waitingRoom
    }
}

/// Outlier detection's part of a sample: who is out now, how often each instance was ejected, and the latest events.
public struct OutlierState: Sendable, Equatable, Codable {
    /// Instances out of rotation now.
    public var ejected: [String]
    /// Ejections so far, by instance id.
    public var ejections: [String: Int]
    /// Versions whose circuit is open now.
    public var openCircuits: [String]
    /// The latest events, oldest first (at most ``OutlierGuard/eventCapacity``); each time is distinct and later
    /// than the one before, so a reader asks for those after the last it saw.
    public var events: [OutlierEvent]

    /// A state; empty by default.
    public init(
        ejected: [String] = [],
        ejections: [String: Int] = [:],
        openCircuits: [String] = [],
        events: [OutlierEvent] = []
    ) {
        self.ejected = ejected
        self.ejections = ejections
        self.openCircuits = openCircuits
        self.events = events
    }
}
