import Foundation
import SlipwayCore

/// What an app looks like now, folded from its events.
public struct AppStatus: Sendable, Equatable, Codable {
    /// Whether a controller supervises the app.
    public enum Supervision: String, Sendable, Codable {
        /// A controller is running it.
        case running
        /// The last controller stopped cleanly, and every instance with it.
        case stopped
        /// The last controller stopped alone: its instances and data plane were left serving.
        case detached
        /// No controller has run it yet.
        case never
    }

    /// Where one instance stands.
    public enum InstanceState: String, Sendable, Codable {
        case starting, healthy, unhealthy, stopping
    }

    /// One instance as the log knows it.
    public struct Instance: Sendable, Equatable, Codable {
        public var id: InstanceID
        public var version: String
        public var pid: Int?
        public var port: Int?
        public var state: InstanceState
        /// When it entered `state`.
        public var since: Date
        /// The process id of the supervisor that owns its output and exit status.
        public var supervisorPid: Int? = nil
        /// Whether the proxy holds it out of rotation after failed requests (outlier ejection), until a probe
        /// passes.
        public var ejected = false
        /// Where it is reached (`198.18.0.2:20511` on a host), when the log says.
        public var address: String? = nil
    }

    /// The data plane serving the app's listener, as the controller last found it.
    public struct DataPlane: Sendable, Equatable, Codable {
        public var pid: Int
        public var build: String
        /// When it started serving (estimated from its uptime when the controller attached).
        public var since: Date
        /// Whether a controller drives it now.
        public var attached: Bool
    }

    /// The app's name.
    public var app: String
    /// Whether a controller runs it.
    public var supervision: Supervision
    /// The stable version the controller runs.
    public var version: String?
    /// How many instances it should have.
    public var desiredInstances: Int?
    /// The instances that run, by id.
    public var instances: [Instance]
    /// Consecutive failures when the app is in a crash loop, with the current delay.
    public var backoff: Backoff?
    /// The newest event.
    public var lastEvent: RecordedEvent?
    /// The current rollout, or the last one.
    public var rollout: RolloutRecord?
    /// Percent of traffic per version, as last set.
    public var weights: [String: Double]
    /// This machine's data plane, once a controller has attached to one or started one (for an app on this
    /// machine).
    public var dataPlane: DataPlane?
    /// The data plane of each host the app runs on, by host name, once a controller has attached to it or started it.
    public var hostDataPlanes: [String: DataPlane] = [:]

    /// A crash-loop backoff in force.
    public struct Backoff: Sendable, Equatable, Codable {
        public var failures: Int
        public var delay: String
        public var since: Date
    }

    /// The number of healthy instances.
    public var healthyCount: Int { instances.filter { $0.state == .healthy }.count }

    /// Whether every instance the app should run is healthy (and at least one runs): what chaos waits for.
    public var fullyHealthy: Bool { healthyCount > 0 && healthyCount >= (desiredInstances ?? 1) }

    /// Whether a rollout is under way (not yet finished).
    public var rolloutUnderWay: Bool { rollout.map { !$0.isFinished } ?? false }

    /// An app with no history.
    public init(app: String) {
        self.app = app
        self.supervision = .never
        self.instances = []
        self.weights = [:]
    }

    /// Folds `events` (in log order) into the status of `app`.
    public static func fold(app: String, events: [RecordedEvent]) -> AppStatus {
        var status = AppStatus(app: app)
        for event in events where event.app == app { status.apply(event) }
        return status
    }

    /// Applies one event.
    public mutating func apply(_ recorded: RecordedEvent) {
        lastEvent = recorded
        let fields = recorded.fields
        switch recorded.kind {
        case .controllerStarted:
            // A controller that starts owns nothing yet: instances of an earlier run are gone or unknown.
            supervision = .running
            version = fields["version"]?.stringValue
            desiredInstances = fields["instances"]?.intValue
            instances = []
            backoff = nil
        case .controllerStopped:
            dataPlane?.attached = false
            for host in hostDataPlanes.keys { hostDataPlanes[host]?.attached = false }
            if fields["leftRunning"] == .bool(true) {
                supervision = .detached
            } else {
                supervision = .stopped
                instances = []
                backoff = nil
                dataPlane = nil
                hostDataPlanes = [:]
            }
        case .instanceStarted:
            guard let id = recorded.instance else { return }
            instances.removeAll { $0.id == id }
            instances.append(
                Instance(
                    id: id,
                    version: fields["version"]?.stringValue ?? version ?? "?",
                    pid: fields["pid"]?.intValue,
                    port: fields["port"]?.intValue,
                    state: .starting,
                    since: recorded.time,
                    supervisorPid: fields["supervisorPid"]?.intValue,
                    address: fields["address"]?.stringValue
                )
            )
            instances.sort { $0.id < $1.id }
        case .instanceHealthy:
            setState(.healthy, of: recorded)
            backoff = nil
        case .instanceUnhealthy:
            setState(.unhealthy, of: recorded)
        case .instanceStopping:
            setState(.stopping, of: recorded)
        case .instanceEjected, .instanceReturned:
            if let index = instances.firstIndex(where: { $0.id == recorded.instance }) {
                instances[index].ejected = recorded.kind == .instanceEjected
            }
        case .instanceExited:
            instances.removeAll { $0.id == recorded.instance }
        case .crashLoopBackoff:
            backoff = Backoff(
                failures: fields["failures"]?.intValue ?? 0,
                delay: fields["delay"]?.stringValue ?? "?",
                since: recorded.time
            )
        case .instanceAdopted:
            guard let id = recorded.instance else { return }
            instances.removeAll { $0.id == id }
            let port = fields["address"]?.stringValue?.split(separator: ":").last.flatMap { Int($0) }
            instances.append(
                Instance(
                    id: id,
                    version: fields["version"]?.stringValue ?? version ?? "?",
                    pid: fields["pid"]?.intValue,
                    port: port,
                    state: .starting,
                    since: recorded.time,
                    supervisorPid: fields["supervisorPid"]?.intValue,
                    address: fields["address"]?.stringValue
                )
            )
            instances.sort { $0.id < $1.id }
        case .trafficShifted, .routesChanged:
            if case .object(let object)? = fields["weights"] { weights = object.compactMapValues(\.numberValue) }
        case .rolloutStarted:
            rollout = RolloutRecord(started: recorded) ?? rollout
        case .rolloutFinished:
            rollout?.apply(recorded)
            if let stable = fields["stable"]?.stringValue { version = stable }
        case .rolloutStepStarted, .rolloutPaused, .rolloutResumed, .rolloutRollingBack, .analysisJudged,
            .rolloutPromoted, .hookFinished, .gateWaiting, .experimentUpdated, .experimentConcluded,
            .experimentCheckpoint, .variantChosen, .rolloutHeld, .rolloutHoldLifted:
            rollout?.apply(recorded)
        case .dataPlaneStarted, .dataPlaneAttached:
            let uptime = Double(fields["uptimeMs"]?.intValue ?? 0) / 1000
            let found = DataPlane(
                pid: fields["pid"]?.intValue ?? 0,
                build: fields["build"]?.stringValue ?? "?",
                since: recorded.time.addingTimeInterval(-uptime),
                attached: true
            )
            if let host = fields["host"]?.stringValue {
                hostDataPlanes[host] = found
            } else {
                dataPlane = found
            }
        case .dataPlaneLost:
            if let host = fields["host"]?.stringValue {
                hostDataPlanes[host]?.attached = false
            } else {
                dataPlane?.attached = false
            }
        case .instanceStartFailed, .instanceFailedToStart, .instanceReplaced, .instanceDrained, .instanceWarmedUp,
            .commandRefused, .hookStarted, .deployForced, .notificationFailed, .experimentStarted, .instanceLogTail,
            .circuitOpened, .circuitClosed, .faultAdded, .faultRemoved, .chaosStopped, .chaosReleased,
            .chaosKill, .chaosHangEnded, .chaosHostCut, .chaosHostRestored, .monkeyPlanned, .monkeySkipped,
            .chaosExperimentStarted, .chaosExperimentRan,
            .hostUnreachable, .hostReachable, .remoteCommand:
            // Faults and chaos stops are the chaos ledger's to fold, not an app's status.
            break
        }
    }

    private mutating func setState(_ state: InstanceState, of recorded: RecordedEvent) {
        guard let index = instances.firstIndex(where: { $0.id == recorded.instance }) else { return }
        instances[index].state = state
        instances[index].since = recorded.time
    }
}
