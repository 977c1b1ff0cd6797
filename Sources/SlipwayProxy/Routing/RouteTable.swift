import NIOHTTP1

/// What the proxy obeys for one app: an immutable value, swapped atomically, so the request path never locks.
///
/// Everything `route` needs beyond the public fields is worked out once here: bucket ranges, the fallback order and
/// compiled rules. Routing reads headers only for rules and header stickiness, and cookies only for cookie rules and
/// cookie stickiness; with neither it draws one random bucket and compares a few instances.
public final class RouteTable: Sendable {
    /// The versions in bucket order: the first owns buckets [0, w0), the next [w0, w0 + w1), and so on.
    public let versions: [VersionRoute]
    /// Rules tried in order before the weights.
    public let rules: [MatchRule]
    /// How a user keeps seeing the same version.
    public let stickiness: Stickiness
    /// The requests copied to another version, if any.
    public let mirror: TrafficMirror?
    /// The index in `versions` of the version the mirror copies to (0 without a mirror).
    let mirrorIndex: Int

    /// A table with no versions: every request is unroutable.
    public static let empty = RouteTable(
        versions: [],
        rules: [],
        compiledRules: [],
        stickiness: .none,
        mirror: nil,
        mirrorIndex: 0
    )

    private let allInstances: [UpstreamInstance]
    /// The exclusive upper bucket of each version's range.
    private let bucketLimits: [Int]
    /// Version indices by descending weight (ties in table order), tried when the chosen version cannot take requests.
    private let fallbackOrder: [Int]
    private let compiledRules: [CompiledMatchRule]

    /// Creates a table after checking it.
    ///
    /// - Throws: `RouteTableError` when a weight is outside 0...10000, the weights do not add up to 10000 (unless
    ///   there are no versions), a version name repeats, a rule names an unknown version or has an invalid regular
    ///   expression, the stickiness cookie name is not a valid cookie name, or the mirror names an unknown version or
    ///   has a share outside 1...10000.
    public convenience init(
        versions: [VersionRoute],
        rules: [MatchRule] = [],
        stickiness: Stickiness = .none,
        mirror: TrafficMirror? = nil
    ) throws {
        var indexByVersion: [String: Int] = [:]
        var total = 0
        for (index, version) in versions.enumerated() {
            guard (0...TrafficBucket.count).contains(version.weight) else {
                throw RouteTableError.weightOutOfRange(version: version.version, weight: version.weight)
            }
            guard indexByVersion.updateValue(index, forKey: version.version) == nil else {
                throw RouteTableError.duplicateVersion(version.version)
            }
            total += version.weight
        }
        guard versions.isEmpty || total == TrafficBucket.count else {
            throw RouteTableError.weightsDoNotSum(total: total)
        }
        var compiledRules: [CompiledMatchRule] = []
        for (ruleIndex, rule) in rules.enumerated() {
            guard let versionIndex = indexByVersion[rule.version] else {
                throw RouteTableError.unknownRuleVersion(ruleIndex: ruleIndex, version: rule.version)
            }
            let test: CompiledMatchRule.Test
            switch rule.condition {
            case .headerEquals(let name, let value):
                test = .headerEquals(name: name, value: value)
            case .headerMatches(let name, let pattern):
                do {
                    test = .headerMatches(name: name, pattern: try SharedRegex(pattern))
                } catch {
                    throw RouteTableError.invalidPattern(
                        ruleIndex: ruleIndex,
                        pattern: pattern,
                        reason: String(describing: error)
                    )
                }
            case .cookieEquals(let name, let value):
                test = .cookieEquals(name: name, value: value)
            }
            compiledRules.append(CompiledMatchRule(test: test, versionIndex: versionIndex))
        }
        if case .cookie(let name) = stickiness, !RoutingCookies.isValidName(name) {
            throw RouteTableError.invalidCookieName(name)
        }
        var mirrorIndex = 0
        if let mirror {
            guard let index = indexByVersion[mirror.version] else {
                throw RouteTableError.unknownMirrorVersion(mirror.version)
            }
            guard (1...TrafficBucket.count).contains(mirror.share) else {
                throw RouteTableError.invalidMirror("share \(mirror.share) is outside 1...10000 basis points")
            }
            guard mirror.maxBodyBytes >= 0 else {
                throw RouteTableError.invalidMirror("maxBodyBytes \(mirror.maxBodyBytes) is negative")
            }
            mirrorIndex = index
        }
        self.init(
            versions: versions,
            rules: rules,
            compiledRules: compiledRules,
            stickiness: stickiness,
            mirror: mirror,
            mirrorIndex: mirrorIndex
        )
    }

    private init(
        versions: [VersionRoute],
        rules: [MatchRule],
        compiledRules: [CompiledMatchRule],
        stickiness: Stickiness,
        mirror: TrafficMirror?,
        mirrorIndex: Int
    ) {
        self.versions = versions
        self.rules = rules
        self.stickiness = stickiness
        self.mirror = mirror
        self.mirrorIndex = mirrorIndex
        self.compiledRules = compiledRules
        self.allInstances = versions.flatMap(\.instances)
        var limit = 0
        self.bucketLimits = versions.map { version in
            limit += version.weight
            return limit
        }
        self.fallbackOrder = versions.indices.sorted { lhs, rhs in
            versions[lhs].weight != versions[rhs].weight ? versions[lhs].weight > versions[rhs].weight : lhs < rhs
        }
    }

    /// All instances of all versions, in version order.
    public var instances: [UpstreamInstance] {
        allInstances
    }

    /// Chooses the instance for a request, or nil when nothing is routable.
    ///
    /// The first rule that matches and whose version has a routable instance wins. Otherwise the request's bucket
    /// picks the version owning it, so a user in bucket 300 is on a candidate listed first at 5% (500) and stays there
    /// at 25% and 50%. When that version has no instance with a weight above 0, the other versions are tried by
    /// descending weight. Within a version the instance is chosen by weighted least-outstanding requests.
    ///
    /// A version whose every instance outlier detection ejected has an open circuit: its requests get a decision with
    /// ``RouteDecision/circuitOpen`` set, to be answered 503 at once, rather than going to another version.
    ///
    /// With cookie stickiness, the decision asks for the cookie to be set whenever the request lacks a valid one, also
    /// when a rule matched, so the user's bucket is settled from the first response.
    func route(headers: HTTPHeaders, random: inout some RandomNumberGenerator) -> RouteDecision? {
        route(fields: headers, random: &random)
    }

    /// Routes a request by its header fields, read in place.
    func route(fields headers: some RoutingFields, random: inout some RandomNumberGenerator) -> RouteDecision? {
        guard !versions.isEmpty else { return nil }
        for rule in compiledRules where rule.matches(headers) {
            let instance = pickInstance(inVersion: rule.versionIndex, random: &random)
            let open = instance == nil ? openCircuit(inVersion: rule.versionIndex) : nil
            if let chosen = instance ?? open {
                let setCookie: (name: String, bucket: Int, user: UInt64)?
                if case .cookie = stickiness {
                    setCookie = assignment(for: headers, random: &random).setCookie
                } else {
                    setCookie = nil
                }
                return RouteDecision(
                    instance: chosen,
                    versionIndex: rule.versionIndex,
                    matchedRule: true,
                    setCookie: setCookie,
                    circuitOpen: open != nil
                )
            }
        }
        let (bucket, user, setCookie) = assignment(for: headers, random: &random)
        let chosen = versionIndex(owning: bucket)
        if let instance = pickInstance(inVersion: chosen, random: &random) {
            return RouteDecision(
                instance: instance,
                versionIndex: chosen,
                matchedRule: false,
                byWeight: true,
                user: user,
                setCookie: setCookie
            )
        }
        if let open = openCircuit(inVersion: chosen) {
            // Every instance of the version fails: its requests are answered at once, and counted against it.
            return RouteDecision(
                instance: open,
                versionIndex: chosen,
                matchedRule: false,
                byWeight: true,
                user: user,
                setCookie: setCookie,
                circuitOpen: true
            )
        }
        for index in fallbackOrder where index != chosen {
            if let instance = pickInstance(inVersion: index, random: &random) {
                return RouteDecision(
                    instance: instance,
                    versionIndex: index,
                    matchedRule: false,
                    user: user,
                    setCookie: setCookie
                )
            }
        }
        return nil
    }

    /// The instance chosen within one version. The versions are read through a buffer pointer so that reaching the
    /// instance list costs no reference counting.
    private func pickInstance(inVersion index: Int, random: inout some RandomNumberGenerator) -> UpstreamInstance? {
        versions.withUnsafeBufferPointer { versions in
            WeightedLeastOutstanding.pick(from: versions[index].instances, random: &random)
        }
    }

    /// An instance of the version when none of them is in rotation because outlier detection ejected them: the
    /// version's circuit is open. Nil when the version has an instance in rotation, or none was ejected.
    private func openCircuit(inVersion index: Int) -> UpstreamInstance? {
        versions[index].instances.first(where: \.isEjected)
    }

    /// The request's bucket, the user it follows (see ``RouteDecision/user``) and, with cookie stickiness, the cookie
    /// to set when the request lacks a valid one.
    private func assignment(
        for headers: some RoutingFields,
        random: inout some RandomNumberGenerator
    ) -> (bucket: Int, user: UInt64?, setCookie: (name: String, bucket: Int, user: UInt64)?) {
        switch stickiness {
        case .none:
            return (TrafficBucket.random(using: &random), nil, nil)
        case .cookie(let name):
            if let cookie = RoutingCookies.value(named: name, in: headers, TrafficBucket.parseCookie) ?? nil {
                return (cookie.bucket, cookie.user, nil)
            }
            // A new user: a random bucket, and a random id so that users sharing a bucket are told apart.
            let bucket = TrafficBucket.random(using: &random)
            let user = random.next()
            return (bucket, user, (name, bucket, user))
        case .header(let name):
            if let user = headers.firstValue(named: name, TrafficBucket.userKey) {
                return (TrafficBucket.bucket(ofUser: user), user, nil)
            }
            return (TrafficBucket.random(using: &random), nil, nil)
        }
    }

    /// The index of the version whose bucket range holds `bucket`.
    private func versionIndex(owning bucket: Int) -> Int {
        for (index, limit) in bucketLimits.enumerated() where bucket < limit {
            return index
        }
        return bucketLimits.count - 1
    }
}
