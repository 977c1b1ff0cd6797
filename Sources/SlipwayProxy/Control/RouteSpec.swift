/// What one listener should obey, as a value that crosses the control channel and is kept on disk: versions with
/// their weights and instances, match rules and stickiness. The data plane turns it into a ``RouteTable``.
public struct RouteSpec: Sendable, Equatable, Codable {
    /// One instance to send requests to.
    public struct Instance: Sendable, Equatable, Codable {
        /// Its id, e.g. `shop-3`; the same id with the same address keeps its in-flight count across updates.
        public var id: String
        /// The IP literal it listens on.
        public var host: String
        /// The port it listens on.
        public var port: Int
        /// When it joins a table that already serves traffic: ramp its weight from a tenth to full over this many
        /// milliseconds. Applied once, when the data plane first sees the instance.
        public var slowStartMs: Int?

        /// Creates an instance entry.
        public init(id: String, host: String, port: Int, slowStartMs: Int? = nil) {
            self.id = id
            self.host = host
            self.port = port
            self.slowStartMs = slowStartMs
        }
    }

    /// One version's share and instances.
    public struct Version: Sendable, Equatable, Codable {
        /// The version's name.
        public var version: String
        /// Its share of traffic in basis points, 0...10000.
        public var weight: Int
        /// Its instances.
        public var instances: [Instance]

        /// Creates a version entry.
        public init(version: String, weight: Int, instances: [Instance]) {
            self.version = version
            self.weight = weight
            self.instances = instances
        }
    }

    /// One match rule: requests that satisfy it go to `version`.
    public struct Rule: Sendable, Equatable, Codable {
        /// `header`, `headerPattern` or `cookie`.
        public var kind: String
        /// The header or cookie name.
        public var name: String
        /// The exact value, or the pattern for `headerPattern`.
        public var value: String
        /// The version matching requests go to.
        public var version: String

        /// Creates a rule entry.
        public init(kind: String, name: String, value: String, version: String) {
            self.kind = kind
            self.name = name
            self.value = value
            self.version = version
        }
    }

    /// Requests copied to another version (shadow traffic).
    public struct Mirror: Sendable, Equatable, Codable {
        /// The version the copies go to; it must be one of the spec's versions (a weight of 0 is fine).
        public var version: String
        /// The share of eligible requests copied, in basis points, 1...10000.
        public var share: Int
        /// The methods copied, e.g. `["GET", "HEAD"]`.
        public var methods: [String]
        /// The largest request body copied, in bytes; 0 copies only requests without a body.
        public var maxBodyBytes: Int

        /// Creates a mirror entry.
        public init(
            version: String,
            share: Int,
            methods: [String] = TrafficMirror.defaultMethods.sorted(),
            maxBodyBytes: Int = TrafficMirror.defaultMaxBodyBytes
        ) {
            self.version = version
            self.share = share
            self.methods = methods
            self.maxBodyBytes = maxBodyBytes
        }

        /// The mirror as the route table takes it.
        var tableMirror: TrafficMirror {
            TrafficMirror(
                version: version,
                share: share,
                methods: Set(methods.map { $0.uppercased() }),
                maxBodyBytes: maxBodyBytes
            )
        }
    }

    /// The versions, in bucket order.
    public var versions: [Version]
    /// Rules tried before the weights.
    public var rules: [Rule]
    /// `cookie:NAME`, `header:NAME`, or nil for none.
    public var stickiness: String?
    /// Requests copied to another version; nil for none.
    public var mirror: Mirror?

    /// No version at all: every request is answered 503 with `Retry-After`.
    public static let empty = RouteSpec(versions: [])

    /// Creates a spec.
    public init(versions: [Version], rules: [Rule] = [], stickiness: String? = nil, mirror: Mirror? = nil) {
        self.versions = versions
        self.rules = rules
        self.stickiness = stickiness
        self.mirror = mirror
    }

    /// Every instance id, in version order.
    public var instanceIDs: [String] { versions.flatMap { $0.instances.map(\.id) } }

    /// The rules as the route table takes them.
    func matchRules() throws(RouteSpecError) -> [MatchRule] {
        try rules.enumerated().map { (index, rule) throws(RouteSpecError) -> MatchRule in
            switch rule.kind {
            case "header":
                return MatchRule(condition: .headerEquals(name: rule.name, value: rule.value), version: rule.version)
            case "headerPattern":
                return MatchRule(condition: .headerMatches(name: rule.name, pattern: rule.value), version: rule.version)
            case "cookie":
                return MatchRule(condition: .cookieEquals(name: rule.name, value: rule.value), version: rule.version)
            default:
                throw RouteSpecError(
                    "rules[\(index)].kind: \"\(rule.kind)\" is not a rule kind (expected header, headerPattern, cookie)"
                )
            }
        }
    }

    /// The stickiness as the route table takes it.
    func tableStickiness() throws(RouteSpecError) -> Stickiness {
        guard let stickiness else { return .none }
        if stickiness.hasPrefix("cookie:") { return .cookie(name: String(stickiness.dropFirst("cookie:".count))) }
        if stickiness.hasPrefix("header:") { return .header(name: String(stickiness.dropFirst("header:".count))) }
        throw RouteSpecError("stickiness: \"\(stickiness)\" is not cookie:NAME or header:NAME")
    }
}

/// A route spec the data plane cannot obey; it keeps the table it had.
public struct RouteSpecError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, with the field's path.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
