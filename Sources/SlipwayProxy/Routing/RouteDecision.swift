/// Where one request goes.
public struct RouteDecision: Sendable {
    /// The instance to forward the request to.
    public var instance: UpstreamInstance
    /// The index of the instance's version in the table's `versions`.
    public var versionIndex: Int
    /// Whether a match rule chose the version, rather than the weights.
    public var matchedRule: Bool
    /// Whether the weights chose the version: the request's bucket fell in its range and it had an instance. False
    /// for a match rule and for a fallback to another version; only such requests compare versions like with like.
    public var byWeight: Bool
    /// The user a sticky route follows (the cookie's random id, or the bucket of a cookie an earlier version set; a
    /// hash of the stickiness header's value); nil without stickiness, or when the request carried no header to
    /// follow.
    public var user: UInt64?
    /// When non-nil, the proxy adds `Set-Cookie: <name>=<bucket>.<user>; Path=/; Max-Age=2592000; HttpOnly;
    /// SameSite=Lax` to the response (the user as 16 hexadecimal digits), so that the user keeps this bucket.
    public var setCookie: (name: String, bucket: Int, user: UInt64)?
    /// Whether the version's circuit is open (every instance ejected): the request is answered 503 at once, and
    /// `instance` is only the one it is counted against.
    public var circuitOpen: Bool

    /// Creates a decision.
    public init(
        instance: UpstreamInstance,
        versionIndex: Int,
        matchedRule: Bool,
        byWeight: Bool = false,
        user: UInt64? = nil,
        setCookie: (name: String, bucket: Int, user: UInt64)? = nil,
        circuitOpen: Bool = false
    ) {
        self.instance = instance
        self.versionIndex = versionIndex
        self.matchedRule = matchedRule
        self.byWeight = byWeight
        self.user = user
        self.setCookie = setCookie
        self.circuitOpen = circuitOpen
    }
}
