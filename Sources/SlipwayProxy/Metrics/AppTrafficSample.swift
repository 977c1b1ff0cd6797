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
    /// Mirrored requests: the shadows' responses and the originals'.
    public var mirror: MirrorTraffic

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
        waitingRoom: WaitingRoomState? = nil,
        mirror: MirrorTraffic = MirrorTraffic()
    ) {
        self.app = app
        self.takenAt = takenAt
        self.versions = versions
        self.instances = instances
        self.unrouted = unrouted
        self.outliers = outliers
        self.waitingRoom = waitingRoom
        self.mirror = mirror
    }
}

/// What the proxy measured of mirrored requests: each copy's response (the shadow) by the version it went to, and
/// the response the user got to the same request (the original) by the version that served it. Only requests with a
/// copy count here, so the two sides saw the same requests.
public struct MirrorTraffic: Sendable {
    /// Shadow responses by the version the copies went to. A copy that got no response counts as a 502 (no
    /// connection, or the connection closed) or a 504 (no response head within the response timeout), made by the
    /// proxy; its latency runs from the copy sent to its response's end.
    public var shadows: [String: TrafficSnapshot]
    /// The users' responses to the copied requests, by the version that served them.
    public var originals: [String: TrafficSnapshot]
    /// Copies chosen but not sent, so far: no instance of the version could take one, or its connections were all
    /// busy.
    public var dropped: Int

    /// Mirror traffic; none by default.
    public init(
        shadows: [String: TrafficSnapshot] = [:],
        originals: [String: TrafficSnapshot] = [:],
        dropped: Int = 0
    ) {
        self.shadows = shadows
        self.originals = originals
        self.dropped = dropped
    }

    /// Whether nothing was ever mirrored.
    public var isEmpty: Bool { shadows.isEmpty && originals.isEmpty && dropped == 0 }
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
