/// `strategy.abTest`: the candidate runs beside the stable release as variant B (and a deploy's further versions as
/// C, D, …), against the stable release as the control A, on a fixed split, until the experiment has its answer.
/// Ending it is a person's choice: `promote` keeps B (`promote --variant C` keeps another variant), `abort` keeps A.
public struct ABTestSpec: Sendable, Equatable {
    /// The share of the traffic of each variant other than A. Key `weight`; above 0 and below 100. Default (nil): the
    /// variants split the traffic equally (50% for A/B, 33.33% each for A/B/C).
    public var weight: Percentage?
    /// How many instances of each variant other than A run. Key `instances`; default `scaled` (the app's count times
    /// the variant's share, rounded up).
    public var instances: CanarySpec.CandidateInstances
    /// Requests matching any rule always go to B (a segment rather than a random split). Key `match`.
    public var match: [MatchSpec]
    /// How a user keeps seeing the same variant. Key `stickiness`.
    public var stickiness: StickinessSpec?
    /// What is measured and when the experiment ends.
    public var experiment: ExperimentSpec

    /// Creates A/B test settings; the defaults are those used when the keys are absent.
    public init(
        weight: Percentage? = nil,
        instances: CanarySpec.CandidateInstances = .scaled,
        match: [MatchSpec] = [],
        stickiness: StickinessSpec? = nil,
        experiment: ExperimentSpec = ExperimentSpec()
    ) {
        self.weight = weight
        self.instances = instances
        self.match = match
        self.stickiness = stickiness
        self.experiment = experiment
    }

    /// The share, in basis points, of each of `variants` variants other than the control: `weight`, or an equal split
    /// of the traffic among the control and them.
    public func variantShare(variants: Int) -> Int {
        weight?.basisPoints ?? 10_000 / (max(1, variants) + 1)
    }
}

/// What an experiment measures, how sure it must be, and when it has run long enough.
public struct ExperimentSpec: Sendable, Equatable {
    /// The metrics compared between the variants; the first is the primary one, whose verdict ends the experiment
    /// when `stopOnDecision` holds. Key `goals`; at least one. Default `[success]`.
    public var goals: [ExperimentGoal]
    /// The chance, over the whole experiment however often it is looked at, that a goal is called better or worse
    /// when the variants do not differ. Key `alpha`; above 0% and at most 20%. Default 5%.
    public var alpha: Double
    /// The smallest relative change of a goal (against A's value) that matters: a difference whose interval lies
    /// within ± this much of A is "no meaningful difference". Key `minimumEffect`; above 0%. Default 5%.
    public var minimumEffect: Double
    /// The experiment ends after this long. Key `duration`; nil: no limit but the strategy's `maxDuration`.
    public var duration: Duration?
    /// The experiment ends once every variant has this many units (requests). Key `sampleSize`; nil: no limit.
    public var sampleSize: Int?
    /// The experiment ends as soon as the primary goal has a verdict other than inconclusive. Key `stopOnDecision`;
    /// default true.
    public var stopOnDecision: Bool

    /// Creates experiment settings; the defaults are those used when the keys are absent.
    public init(
        goals: [ExperimentGoal] = [ExperimentGoal(metric: .success)],
        alpha: Double = 0.05,
        minimumEffect: Double = 0.05,
        duration: Duration? = nil,
        sampleSize: Int? = nil,
        stopOnDecision: Bool = true
    ) {
        self.goals = goals
        self.alpha = alpha
        self.minimumEffect = minimumEffect
        self.duration = duration
        self.sampleSize = sampleSize
        self.stopOnDecision = stopOnDecision
    }
}

/// One metric an experiment compares between its variants.
public struct ExperimentGoal: Sendable, Equatable {
    /// What is measured per unit (request).
    public enum Metric: Sendable, Equatable {
        /// The value the app reported for this outcome in `X-Slipway-Outcome` (a bare name counts 1): a rate for
        /// `converted`, a mean for `revenue=12.5`.
        case outcome(String)
        /// 1 for a response below 500, 0 for a 5xx (the app's or the proxy's).
        case success
        /// The response time in milliseconds, as the proxy measured it.
        case latency
        /// A PromQL query's value, asked about each variant's version at the end of every window: a unit is a
        /// window, not a request.
        case query(String)
    }

    /// Which way is better.
    public enum Direction: String, Sendable, Equatable {
        case higher, lower
    }

    /// What is measured.
    public var metric: Metric
    /// Which way is better. Key `better`; default `higher`, except `lower` for latency.
    public var better: Direction
    /// This goal's own smallest change that matters; nil: the experiment's. Key `minimumEffect`.
    public var minimumEffect: Double?
    /// The name of a query goal in reports. Key `name`; required for a query.
    public var queryName: String?

    /// Creates a goal.
    public init(metric: Metric, better: Direction? = nil, minimumEffect: Double? = nil, queryName: String? = nil) {
        self.metric = metric
        self.queryName = queryName
        if let better {
            self.better = better
        } else if case .latency = metric {
            self.better = .lower
        } else {
            self.better = .higher
        }
        self.minimumEffect = minimumEffect
    }

    /// The goal's name in reports: the outcome's name, `success`, `latency`, or a query's `name`.
    public var name: String {
        switch metric {
        case .outcome(let name): return name
        case .success: return "success"
        case .latency: return "latency"
        case .query: return queryName ?? "query"
        }
    }
}
