/// Where one request goes.
public struct RouteDecision: Sendable {
    /// The instance to forward the request to.
    public var instance: UpstreamInstance
    /// The index of the instance's version in the table's `versions`.
    public var versionIndex: Int
    /// Whether a match rule chose the version, rather than the weights.
    public var matchedRule: Bool
    /// When non-nil, the proxy adds `Set-Cookie: <name>=<bucket>; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax` to
    /// the response, so that the user keeps this bucket.
    public var setCookie: (name: String, bucket: Int)?

    /// Creates a decision.
    public init(
        instance: UpstreamInstance,
        versionIndex: Int,
        matchedRule: Bool,
        setCookie: (name: String, bucket: Int)? = nil
    ) {
        self.instance = instance
        self.versionIndex = versionIndex
        self.matchedRule = matchedRule
        self.setCookie = setCookie
    }
}
