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
        unrouted: TrafficSnapshot = .empty
    ) {
        self.app = app
        self.takenAt = takenAt
        self.versions = versions
        self.instances = instances
        self.unrouted = unrouted
    }
}
