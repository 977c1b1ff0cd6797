import Foundation
import SlipwayCore
import SlipwayStore

/// An app as `GET /api/v1/apps/{app}` shows it: its listener, stable release, instances, weights and rollout.
public struct AppView: Sendable, Equatable, Codable {
    /// One instance.
    public struct Instance: Sendable, Equatable, Codable {
        public var id: String
        public var version: String
        /// `starting`, `healthy`, `unhealthy` or `stopping`.
        public var state: String
        public var pid: Int?
        public var port: Int?
        /// When it entered `state`.
        public var since: Date
        /// The supervisor that owns its output and exit status.
        public var supervisorPid: Int?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(version, forKey: .version)
            try container.encode(state, forKey: .state)
            try container.encode(pid, forKey: .pid)
            try container.encode(port, forKey: .port)
            try container.encode(since, forKey: .since)
            try container.encode(supervisorPid, forKey: .supervisorPid)
        }
    }

    /// The data plane serving the app's listener.
    public struct DataPlane: Sendable, Equatable, Codable {
        public var pid: Int
        public var build: String
        /// When it started serving.
        public var since: Date
        /// Whether a controller drives it now.
        public var attached: Bool
        /// The host it runs on; nil on the controller's machine.
        public var host: String?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(pid, forKey: .pid)
            try container.encode(build, forKey: .build)
            try container.encode(since, forKey: .since)
            try container.encode(attached, forKey: .attached)
            if let host { try container.encode(host, forKey: .host) }
        }
    }

    public var name: String
    /// Where the app's listener is bound.
    public var listen: String
    /// The stable version.
    public var stable: String
    public var desiredInstances: Int
    public var instances: [Instance]
    /// Percent of traffic per version.
    public var weights: [String: Double]
    /// The current (or last) rollout; null when the app never had one.
    public var rollout: RolloutSummary?
    /// The last decision of the rollout, with its reason.
    public var lastDecision: String?
    /// The data plane on the controller's machine, once a controller has found or started one.
    public var dataPlane: DataPlane?
    /// For an app on hosts, each host's data plane (in host order) that a controller has found or started.
    public var hostDataPlanes: [DataPlane]

    /// The view of `app`, folded from its events, with the controller's live `rollout`.
    public init(app: ConfiguredApp, events: [RecordedEvent], rollout: RolloutSummary?) {
        self.init(app: app, status: AppStatus.fold(app: app.name, events: events), rollout: rollout)
    }

    /// The view of `app` from its status, with the controller's live `rollout`.
    public init(app: ConfiguredApp, status: AppStatus, rollout: RolloutSummary?) {
        name = app.name
        listen = app.listen
        stable = status.version ?? app.version
        desiredInstances = status.desiredInstances ?? app.instances
        instances = status.instances.map { instance in
            Instance(
                id: instance.id.rawValue,
                version: instance.version,
                state: instance.state.rawValue,
                pid: instance.pid,
                port: instance.port,
                since: instance.since,
                supervisorPid: instance.supervisorPid
            )
        }
        // Before any traffic shift every request goes to the stable release.
        weights = status.weights.isEmpty ? [stable: 100] : status.weights
        self.rollout = rollout
        lastDecision = status.rollout?.lastDecision
        dataPlane = status.dataPlane.map {
            DataPlane(pid: $0.pid, build: $0.build, since: $0.since, attached: $0.attached)
        }
        hostDataPlanes = status.hostDataPlanes.sorted { $0.key < $1.key }.map { host, plane in
            DataPlane(pid: plane.pid, build: plane.build, since: plane.since, attached: plane.attached, host: host)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(listen, forKey: .listen)
        try container.encode(stable, forKey: .stable)
        try container.encode(desiredInstances, forKey: .desiredInstances)
        try container.encode(instances, forKey: .instances)
        try container.encode(weights, forKey: .weights)
        try container.encode(rollout, forKey: .rollout)
        try container.encode(lastDecision, forKey: .lastDecision)
        try container.encode(dataPlane, forKey: .dataPlane)
        try container.encode(hostDataPlanes, forKey: .hostDataPlanes)
    }
}
