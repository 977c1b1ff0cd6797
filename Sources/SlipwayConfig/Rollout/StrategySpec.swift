/// How an app moves traffic from its stable release to a candidate (key `strategy`).
///
/// Exactly one of `recreate`, `rolling`, `blueGreen`, `canary` or `abTest` is written under `strategy`; without the key an
/// app rolls out with ``Kind/rolling(_:)`` and its defaults.
public struct StrategySpec: Sendable, Equatable {
    /// The strategy and its own settings.
    public enum Kind: Sendable, Equatable {
        /// Stop every stable instance, then start the candidate set (downtime; the baseline).
        case recreate
        /// Replace instances batch by batch.
        case rolling(RollingSpec)
        /// Start a full candidate set beside stable, then switch all traffic at once.
        case blueGreen(BlueGreenSpec)
        /// Move traffic to the candidate by steps of exact weights.
        case canary(CanarySpec)
        /// Run the candidate beside stable on a fixed split as an experiment, and wait for a person to choose.
        case abTest(ABTestSpec)
    }

    /// The strategy and its own settings.
    public var kind: Kind
    /// A step other than a pause that has not finished this long after it began rolls the rollout back.
    /// Key `strategy.progressDeadline`; greater than 0. Default 10m.
    public var progressDeadline: Duration
    /// A rollout still running this long after it began, pauses included, is rolled back.
    /// Key `strategy.maxDuration`; greater than 0. Default 24h.
    public var maxDuration: Duration
    /// A mirror step before the candidate takes any user traffic (every strategy but `recreate`); nil for none.
    /// Key `strategy.mirror`.
    public var mirror: MirrorStepSpec?

    /// Creates a strategy; the defaults are those used when the keys are absent.
    public init(
        kind: Kind = .rolling(RollingSpec()),
        progressDeadline: Duration = .seconds(600),
        maxDuration: Duration = .seconds(86_400),
        mirror: MirrorStepSpec? = nil
    ) {
        self.kind = kind
        self.progressDeadline = progressDeadline
        self.maxDuration = maxDuration
        self.mirror = mirror
    }

    /// The match rules and stickiness of a strategy that splits traffic by weight (canary, A/B test); nil for the
    /// others.
    public var routing: (match: [MatchSpec], stickiness: StickinessSpec?)? {
        switch kind {
        case .canary(let canary): return (canary.match, canary.stickiness)
        case .abTest(let abTest): return (abTest.match, abTest.stickiness)
        default: return nil
        }
    }

    /// The strategy's name as written in the file: `recreate`, `rolling`, `blueGreen`, `canary` or `abTest`.
    public var name: String {
        switch kind {
        case .recreate: return "recreate"
        case .rolling: return "rolling"
        case .blueGreen: return "blueGreen"
        case .canary: return "canary"
        case .abTest: return "abTest"
        }
    }
}

/// A number of instances written as a count (`2`) or as a share of the app's instance count (`25%`).
public enum InstanceAmount: Sendable, Equatable {
    /// A number of instances, 0 or more.
    case count(Int)
    /// A share of the app's instance count.
    case percentage(Percentage)

    /// The number of instances out of `total`: a percentage rounds up when `roundUp` (as `maxSurge` does),
    /// down otherwise (as `maxUnavailable` does).
    public func resolve(of total: Int, roundUp: Bool) -> Int {
        switch self {
        case .count(let count):
            return count
        case .percentage(let percentage):
            let scaled = total * percentage.basisPoints
            return roundUp ? (scaled + 9_999) / 10_000 : scaled / 10_000
        }
    }
}

/// `strategy.rolling`.
public struct RollingSpec: Sendable, Equatable {
    /// Instances started beyond the app's count at once. Default `25%` (rounded up). Key `maxSurge`.
    public var maxSurge: InstanceAmount
    /// Instances that may be missing from the app's count at once. Default `0`. Key `maxUnavailable`.
    /// `maxSurge` and `maxUnavailable` must not both resolve to 0.
    public var maxUnavailable: InstanceAmount
    /// Analysis run after each batch takes traffic, before the next batch; nil for none. Key `analysis`.
    public var analysis: AnalysisStepSpec?

    /// Creates rolling settings; the defaults are those used when the keys are absent.
    public init(
        maxSurge: InstanceAmount = .percentage(Percentage(basisPoints: 2_500)),
        maxUnavailable: InstanceAmount = .count(0),
        analysis: AnalysisStepSpec? = nil
    ) {
        self.maxSurge = maxSurge
        self.maxUnavailable = maxUnavailable
        self.analysis = analysis
    }
}

/// `strategy.blueGreen`.
public struct BlueGreenSpec: Sendable, Equatable {
    /// Where the candidate set answers before the switch, for smoke checks; nil for no preview listener.
    /// Key `previewListen` (port 0: any free port).
    public var previewListen: HostPort?
    /// Analysis of the candidate before the switch (on the preview listener's traffic). Key `prePromotion`.
    public var prePromotion: AnalysisStepSpec?
    /// Analysis after the switch; a failure switches back at once. Key `postPromotion`.
    public var postPromotion: AnalysisStepSpec?
    /// Whether the switch happens by itself once the candidate is ready and checked; when false the rollout waits
    /// for `promote`. Key `autoPromote`; default true.
    public var autoPromote: Bool
    /// How long the old set keeps running after the switch, so `rollback` is instant. Key `scaleDownDelay`;
    /// 0 or more. Default 30s.
    public var scaleDownDelay: Duration

    /// Creates blue-green settings; the defaults are those used when the keys are absent.
    public init(
        previewListen: HostPort? = nil,
        prePromotion: AnalysisStepSpec? = nil,
        postPromotion: AnalysisStepSpec? = nil,
        autoPromote: Bool = true,
        scaleDownDelay: Duration = .seconds(30)
    ) {
        self.previewListen = previewListen
        self.prePromotion = prePromotion
        self.postPromotion = postPromotion
        self.autoPromote = autoPromote
        self.scaleDownDelay = scaleDownDelay
    }
}

/// `strategy.canary`.
public struct CanarySpec: Sendable, Equatable {
    /// One entry of `steps`.
    public enum Step: Sendable, Equatable {
        /// `weight: N`: send N% (0...100, up to two decimals) of traffic to the candidate.
        case weight(Percentage)
        /// `pause: 30s`: wait this long; `pause: {}`: wait for `promote`.
        case pause(Duration?)
        /// `analysis: {…}` (or `analysis: {}` for the app's defaults): judge the candidate before going on.
        case analysis(AnalysisStepSpec)
        /// `mirror: {share: 50%, duration: 2m}`: copy requests to the candidate and judge its answers.
        case mirror(MirrorStepSpec)
        /// `chaos: {fault: {…}, duration: 2m}`: apply the same fault to both versions and fail the candidate when it
        /// degrades more than the stable version (see ``ChaosStepSpec``).
        case chaos(ChaosStepSpec)
    }

    /// How many candidate instances run.
    public enum CandidateInstances: Sendable, Equatable {
        /// A fixed number, 1 or more (never more than the app's count); all of them from the first step.
        case fixed(Int)
        /// The app's count times the current weight, rounded up, at least 1. Written `scaled`.
        case scaled
    }

    /// The steps, in order; at least one. Reaching the end promotes: all traffic to the candidate, then the old
    /// set drains and stops. Key `steps`.
    public var steps: [Step]
    /// Requests matching any rule always go to the candidate (internal users, beta testers). Key `match`.
    public var match: [MatchSpec]
    /// How a user keeps seeing the same version. Key `stickiness`.
    public var stickiness: StickinessSpec?
    /// How many candidate instances run. Key `instances`; default `scaled`.
    public var instances: CandidateInstances

    /// Creates canary settings; the defaults are those used when the keys are absent.
    public init(
        steps: [Step],
        match: [MatchSpec] = [],
        stickiness: StickinessSpec? = nil,
        instances: CandidateInstances = .scaled
    ) {
        self.steps = steps
        self.match = match
        self.stickiness = stickiness
        self.instances = instances
    }
}

/// One entry of `strategy.canary.match`: exactly one of `header` or `cookie`.
public struct MatchSpec: Sendable, Equatable {
    /// What a request must carry.
    public enum Condition: Sendable, Equatable {
        /// `header: {name: X-Internal, value: "true"}`: the header has exactly this value (name compared
        /// case-insensitively).
        case headerEquals(name: String, value: String)
        /// `header: {name: X-User, pattern: "^qa-.*"}`: the header's value matches the regular expression as a whole.
        case headerMatches(name: String, pattern: String)
        /// `cookie: {name: beta, value: "1"}`: the cookie has exactly this value.
        case cookieEquals(name: String, value: String)
    }

    /// What a request must carry.
    public var condition: Condition

    /// Creates a rule.
    public init(condition: Condition) {
        self.condition = condition
    }
}

/// `strategy.canary.stickiness`: exactly one of `cookie` (a cookie name the proxy sets) or `header` (a user-key
/// header such as `X-User-Id`).
public enum StickinessSpec: Sendable, Equatable {
    /// `cookie: slipway-bucket`.
    case cookie(String)
    /// `header: X-User-Id`.
    case header(String)
}
