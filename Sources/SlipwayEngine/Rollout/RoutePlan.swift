import SlipwayConfig
import SlipwayCore

/// What the proxy should obey for one app: which instances take traffic, with what share per version.
public struct RoutePlan: Sendable, Equatable {
    /// One version's share and the instances that serve it.
    public struct Group: Sendable, Equatable {
        /// The version.
        public var version: String
        /// Its share of requests, in basis points (the groups add up to 10000 unless there are none).
        public var weight: Int
        /// Ready instances serving it, in id order.
        public var instances: [InstanceID]

        /// Creates a group.
        public init(version: String, weight: Int, instances: [InstanceID]) {
            self.version = version
            self.weight = weight
            self.instances = instances
        }
    }

    /// Requests copied to another version (shadow traffic).
    public struct Mirror: Sendable, Equatable {
        /// The version the copies go to (one of the groups).
        public var version: String
        /// The share of eligible requests copied, in basis points.
        public var share: Int
        /// The methods copied.
        public var methods: [String]
        /// The largest request body copied, in bytes.
        public var maxBodyBytes: Int

        /// Creates a mirror.
        public init(version: String, share: Int, methods: [String], maxBodyBytes: Int) {
            self.version = version
            self.share = share
            self.methods = methods
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// The versions taking traffic; instances of one version appear in one group.
    public var groups: [Group]
    /// Requests matching these go to `ruleVersion` whatever the weights.
    public var rules: [MatchSpec]
    /// The version rules send to.
    public var ruleVersion: String?
    /// How users keep their version.
    public var stickiness: StickinessSpec?
    /// Ready candidate instances the preview listener serves; nil when there is no preview.
    public var preview: [InstanceID]?
    /// Requests copied to a version; nil for none.
    public var mirror: Mirror?

    /// Creates a plan.
    public init(
        groups: [Group],
        rules: [MatchSpec] = [],
        ruleVersion: String? = nil,
        stickiness: StickinessSpec? = nil,
        preview: [InstanceID]? = nil,
        mirror: Mirror? = nil
    ) {
        self.groups = groups
        self.rules = rules
        self.ruleVersion = ruleVersion
        self.stickiness = stickiness
        self.preview = preview
        self.mirror = mirror
    }

    /// Every instance taking traffic.
    public var instances: [InstanceID] { groups.flatMap(\.instances) }

    /// Percent of traffic per version, for events and summaries.
    public var percentages: [String: Double] {
        var result: [String: Double] = [:]
        for group in groups { result[group.version] = Double(group.weight) / 100 }
        return result
    }
}
