import SlipwayConfig
import SlipwayCore

/// An A/B(/n) experiment between the control (variant A, the stable release) and the other variants, fed the
/// proxy's windows and answering at any moment with an ``ExperimentReport``.
///
/// A unit is a request, or with sticky users a user (by their first request since the split began: its variant was
/// drawn at random with the shares, so users are independent units where requests are not). Each goal's units are
/// summed per variant; each variant is compared with the control by
/// ``MeanDifference`` at the experiment's α divided among the variants (Bonferroni), and the split by
/// ``SampleRatioCheck``. A verdict may be read after every window: the intervals are confidence sequences.
public struct Experiment: Sendable, Equatable {
    /// One arm of the experiment.
    public struct Variant: Sendable, Equatable {
        /// `A` for the control, then `B`, `C`, ….
        public var name: String
        /// The version serving it.
        public var version: String
        /// Its configured share of the traffic (0...1).
        public var share: Double

        /// A variant.
        public init(name: String, version: String, share: Double) {
            self.name = name
            self.version = version
            self.share = share
        }
    }

    /// The settings.
    public let spec: ExperimentSpec
    /// The app and the rollout.
    public let app: String
    public let rollout: Int
    /// The variants, the control first.
    public let variants: [Variant]
    /// What the routing breaks of the assumptions, in words.
    public let notes: [String]
    /// Whether requests are assigned at random, so that the split can be checked.
    public let randomSplit: Bool
    /// Whether a unit is a user (sticky traffic): the proxy's comparison units (``ComparisonUnits``), the first
    /// request of each user new since the split began.
    public let perUser: Bool
    /// Whether some window of a per-user experiment had no user counts (a data plane of an earlier version) and
    /// counted requests instead.
    public private(set) var countedRequests = false
    /// When the experiment began.
    public let startedAt: Moment
    /// Sums per goal, per variant.
    public private(set) var sums: [[UnitSums]]
    /// The running minimum of each comparison's 1/e, per goal, per variant (the control's entry unused).
    public private(set) var pValues: [[Double]]
    /// Each comparison's confidence sequence so far, per goal, per variant: the intersection of every interval seen
    /// (still a confidence sequence at the same level), so that the verdict agrees with the running p-value and
    /// does not flip back.
    public private(set) var bounds: [[Bounds]]
    /// Each comparison's difference and interval over time, per goal, per variant (the control's entry unused).
    public private(set) var history: [[[ExperimentReport.Point]]]
    /// The split so far.
    public private(set) var split: SampleRatioCheck
    /// Why and when it concluded; nil while it runs.
    public private(set) var conclusion: (reason: String, at: Moment, awaitingChoice: Bool)?

    private let tests: MeanDifference

    /// An experiment starting at `now`.
    public init(
        spec: ExperimentSpec,
        app: String,
        rollout: Int,
        variants: [Variant],
        notes: [String] = [],
        randomSplit: Bool = true,
        perUser: Bool = false,
        at now: Moment
    ) {
        precondition(variants.count >= 2, "an experiment needs a control and at least one variant")
        self.spec = spec
        self.app = app
        self.rollout = rollout
        self.variants = variants
        self.notes = notes
        self.randomSplit = randomSplit
        self.perUser = perUser
        startedAt = now
        sums = spec.goals.map { _ in variants.map { _ in UnitSums() } }
        pValues = spec.goals.map { _ in variants.map { _ in 1 } }
        bounds = spec.goals.map { _ in variants.map { _ in Bounds() } }
        history = spec.goals.map { _ in variants.map { _ in [] } }
        split = SampleRatioCheck(shares: variants.map(\.share))
        let expected = spec.sampleSize.map { $0 * variants.count } ?? 10_000
        tests = MeanDifference(alpha: spec.alpha / Double(variants.count - 1), expectedUnits: expected)
    }

    /// An experiment carried on from `checkpoint` (see ``checkpoint(rolloutStartedAt:withHistory:)``) for a rollout
    /// that started at `rolloutStartedAt`; nil when the checkpoint is of other goals or variants (a changed config).
    public init?(
        restoring checkpoint: Checkpoint,
        rolloutStartedAt: Moment,
        spec: ExperimentSpec,
        app: String,
        rollout: Int,
        variants: [Variant],
        notes: [String] = [],
        randomSplit: Bool = true,
        perUser: Bool = false
    ) {
        guard checkpoint.goals == spec.goals.map(\.name), checkpoint.versions == variants.map(\.version),
            checkpoint.shares == variants.map(\.share)
        else { return nil }
        let shapes = [
            checkpoint.sums.map(\.count), checkpoint.pValues.map(\.count), checkpoint.bounds.map(\.count),
            checkpoint.history?.map(\.count) ?? [Int](repeating: variants.count, count: spec.goals.count),
        ]
        let expected = [Int](repeating: variants.count, count: spec.goals.count)
        guard shapes.allSatisfy({ $0 == expected }), checkpoint.split.count == variants.count else { return nil }
        let startedAt = rolloutStartedAt + .milliseconds(checkpoint.startedAfterRolloutMilliseconds)
        self.init(
            spec: spec,
            app: app,
            rollout: rollout,
            variants: variants,
            notes: notes,
            randomSplit: randomSplit,
            perUser: perUser,
            at: startedAt
        )
        sums = checkpoint.sums
        pValues = checkpoint.pValues
        bounds = checkpoint.bounds
        if let past = checkpoint.history { history = past }
        split = SampleRatioCheck(
            shares: variants.map(\.share),
            counts: checkpoint.split,
            largestLogFactor: checkpoint.splitLogFactor
        )
        conclusion = checkpoint.conclusion.map { concluded in
            (concluded.reason, startedAt + .milliseconds(concluded.afterStartMilliseconds), concluded.awaitingChoice)
        }
    }

    /// What it has counted, for the event log, so that a restarted controller carries on from here; with the
    /// comparisons' history over time, or without it for a periodic checkpoint.
    public func checkpoint(rolloutStartedAt: Moment, withHistory: Bool = true) -> Checkpoint {
        Checkpoint(
            goals: spec.goals.map(\.name),
            versions: variants.map(\.version),
            shares: variants.map(\.share),
            startedAfterRolloutMilliseconds: Self.milliseconds(startedAt - rolloutStartedAt),
            sums: sums,
            pValues: pValues,
            bounds: bounds,
            history: withHistory ? history : nil,
            split: split.counts,
            splitLogFactor: split.largestLogFactor,
            conclusion: conclusion.map { concluded in
                Checkpoint.Conclusion(
                    reason: concluded.reason,
                    afterStartMilliseconds: Self.milliseconds(concluded.at - startedAt),
                    awaitingChoice: concluded.awaitingChoice
                )
            }
        )
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.milliseconds
    }

    public static func == (left: Experiment, right: Experiment) -> Bool {
        left.spec == right.spec && left.variants == right.variants && left.sums == right.sums
            && left.pValues == right.pValues && left.bounds == right.bounds && left.history == right.history
            && left.split == right.split
            && left.startedAt == right.startedAt
            && left.conclusion?.reason == right.conclusion?.reason && left.conclusion?.at == right.conclusion?.at
            && left.conclusion?.awaitingChoice == right.conclusion?.awaitingChoice
    }

    /// Adds one window of traffic; nothing once concluded.
    public mutating func observe(_ window: MetricsWindow) {
        let seconds = Double((window.end - startedAt).components.seconds)
        guard conclusion == nil else { return }
        // Per user when every variant's part of the window has the proxy's user counts.
        let byUser = perUser && variants.allSatisfy { window[$0.version].units != nil }
        if perUser, !byUser, variants.contains(where: { window[$0.version].requests > 0 }) { countedRequests = true }
        split.observe(variants.map { byUser ? window[$0.version].units?.units ?? 0 : window[$0.version].requests })
        for (goalIndex, goal) in spec.goals.enumerated() {
            for (variantIndex, variant) in variants.enumerated() {
                sums[goalIndex][variantIndex] =
                    sums[goalIndex][variantIndex]
                    + Self.units(of: goal, in: window, version: variant.version, byUser: byUser)
            }
            for variantIndex in variants.indices.dropFirst() {
                if let estimate = tests.estimate(control: sums[goalIndex][0], variant: sums[goalIndex][variantIndex]) {
                    pValues[goalIndex][variantIndex] = min(pValues[goalIndex][variantIndex], 1 / estimate.eValue)
                    bounds[goalIndex][variantIndex].narrow(to: estimate)
                    let running = bounds[goalIndex][variantIndex]
                    var points = history[goalIndex][variantIndex]
                    points.append(
                        ExperimentReport.Point(
                            seconds: seconds,
                            difference: estimate.difference,
                            lower: running.lower,
                            upper: running.upper
                        )
                    )
                    if points.count > ExperimentReport.Point.limit {
                        // Thin the past evenly, keeping the newest.
                        points = points.enumerated().filter { ($0.offset - points.count + 1) % 2 == 0 }.map(\.element)
                    }
                    history[goalIndex][variantIndex] = points
                }
            }
        }
    }

    /// The goal's units in one version's part of the window: its requests, or `byUser` its users' first requests.
    static func units(
        of goal: ExperimentGoal,
        in metrics: MetricsWindow,
        version: String,
        byUser: Bool = false
    )
        -> UnitSums
    {
        let window = metrics[version]
        // With sticky users, the proxy's user counts: each user's first request since the split began.
        let users = byUser ? window.units : nil
        switch goal.metric {
        case .query(let query):
            // One unit per window, when the query had a value for this version.
            guard case .value(let value)? = metrics.queries[QueryRequest(query, version: version)] else {
                return UnitSums()
            }
            return UnitSums(count: 1, sum: value, sumOfSquares: value * value)
        case .success:
            let count = users?.units ?? window.requests
            let good = Double(count - (users?.bad ?? window.errors))
            return UnitSums(count: count, sum: good, sumOfSquares: good)
        case .outcome(let name):
            let tally = (users?.outcomes ?? window.outcomes)[name] ?? OutcomeTally()
            return UnitSums(tally, count: users?.units ?? window.requests)
        case .latency:
            if let users { return UnitSums(users.latency) }
            var sums = UnitSums()
            for (micros, count) in zip(window.latencyCounts.micros, window.latencyCounts.counts) {
                let milliseconds = Double(micros) / 1_000
                sums.count += count
                sums.sum += Double(count) * milliseconds
                sums.sumOfSquares += Double(count) * milliseconds * milliseconds
            }
            return sums
        }
    }

    /// Why the experiment should end now, or nil: its duration, its sample size, or a decided primary goal.
    public func endCondition(at now: Moment) -> String? {
        if let duration = spec.duration, now - startedAt >= duration {
            return "it ran for its duration of \(DurationText.format(duration))"
        }
        if let size = spec.sampleSize, let smallest = split.counts.min(), smallest >= size {
            return "every variant reached the sample size of \(size) \(unitName)s"
        }
        let report = report(at: now)
        if spec.stopOnDecision, !report.split.mismatched, let goal = report.goals.first,
            goal.comparisons.allSatisfy({ $0.verdict != .inconclusive })
        {
            return "the primary goal `\(goal.name)` is decided"
        }
        return nil
    }

    /// Marks the experiment concluded; later windows are not counted. `awaitingChoice`: it ended by its own end
    /// condition, and a person now chooses the winner.
    public mutating func conclude(_ reason: String, at now: Moment, awaitingChoice: Bool) {
        guard conclusion == nil else { return }
        conclusion = (reason, now, awaitingChoice)
    }

    /// Where the experiment stands at `now`.
    public func report(at now: Moment) -> ExperimentReport {
        let mismatched = splitChecked && split.mismatched
        var goals: [ExperimentReport.Goal] = []
        for (goalIndex, goal) in spec.goals.enumerated() {
            let figures = variants.enumerated().map { index, variant in
                let sums = sums[goalIndex][index]
                let interval = tests.interval(of: sums)
                return ExperimentReport.VariantFigures(
                    name: variant.name,
                    version: variant.version,
                    units: sums.count,
                    mean: sums.mean,
                    lower: interval?.lower,
                    upper: interval?.upper
                )
            }
            let comparisons = variants.indices.dropFirst().map { index in
                compare(goal, goalIndex: goalIndex, variant: index, mismatched: mismatched)
            }
            goals.append(
                ExperimentReport.Goal(
                    name: goal.name,
                    measure: Self.measure(of: goal),
                    better: goal.better.rawValue,
                    minimumEffect: goal.minimumEffect ?? spec.minimumEffect,
                    variants: figures,
                    comparisons: comparisons
                )
            )
        }
        let ended = conclusion.map { $0.at } ?? now
        return ExperimentReport(
            app: app,
            rollout: rollout,
            state: conclusion == nil ? "running" : "concluded",
            conclusion: conclusion?.reason,
            awaitingChoice: conclusion?.awaitingChoice ?? false,
            elapsedSeconds: Double((ended - startedAt).components.seconds),
            alpha: spec.alpha,
            goals: goals,
            split: splitFigures(mismatched: mismatched),
            unit: perUser ? "user" : nil,
            assumptions: assumptions,
            summary: Self.summary(goals.first, mismatched: mismatched)
        )
    }

    private func compare(
        _ goal: ExperimentGoal,
        goalIndex: Int,
        variant index: Int,
        mismatched: Bool
    ) -> ExperimentReport.Comparison {
        let control = sums[goalIndex][0]
        let variant = sums[goalIndex][index]
        var comparison = ExperimentReport.Comparison(
            variant: variants[index].name,
            verdict: .inconclusive,
            reason: "",
            pValue: pValues[goalIndex][index],
            alpha: tests.alpha,
            history: history[goalIndex][index]
        )
        guard let estimate = tests.estimate(control: control, variant: variant) else {
            let units = if case .query = goal.metric { "windows with a value" } else { "requests" }
            comparison.reason =
                min(control.count, variant.count) < MeanDifference.minimumUnits
                ? "fewer than \(MeanDifference.minimumUnits) \(units) in a variant"
                : "no variation in the data yet"
            return comparison
        }
        // The verdict reads the confidence sequence so far, not only the latest interval.
        let interval = bounds[goalIndex][index]
        comparison.difference = estimate.difference
        comparison.lower = interval.lower
        comparison.upper = interval.upper
        comparison.eValue = estimate.eValue
        let base = control.mean ?? 0
        if base != 0 {
            comparison.relative = estimate.difference / abs(base)
            comparison.relativeLower = interval.lower / abs(base)
            comparison.relativeUpper = interval.upper / abs(base)
        }
        let higherIsBetter = goal.better == .higher
        let effect = goal.minimumEffect ?? spec.minimumEffect
        // "No meaningful difference" must hold whatever A's true mean is within its own interval, so the margin is
        // taken from the end of that interval nearest 0 (none while it holds 0).
        let margin =
            tests.interval(of: control).map { own in
                own.lower > 0 || own.upper < 0 ? effect * min(abs(own.lower), abs(own.upper)) : 0
            } ?? 0
        if mismatched {
            comparison.reason = "the split is off, so no verdict stands"
        } else if interval.lower > 0 {
            comparison.verdict = higherIsBetter ? .better : .worse
            comparison.reason = "the interval lies above 0"
        } else if interval.upper < 0 {
            comparison.verdict = higherIsBetter ? .worse : .better
            comparison.reason = "the interval lies below 0"
        } else if margin > 0, interval.lower > -margin, interval.upper < margin {
            comparison.verdict = .noMeaningfulDifference
            comparison.reason = "the interval lies within ±\(Self.percent(effect)) of A's lowest plausible mean"
        } else {
            comparison.reason = "the interval holds 0 and reaches beyond ±\(Self.percent(effect)) of A"
        }
        return comparison
    }

    private func splitFigures(mismatched: Bool) -> ExperimentReport.Split {
        let expected = variants.map(\.share)
        guard splitChecked else {
            return ExperimentReport.Split(
                expected: expected,
                observed: split.counts,
                pValue: nil,
                mismatched: false,
                summary: randomSplit
                    ? "not checked: some windows counted requests of sticky users"
                    : "not checked: requests are not assigned at random"
            )
        }
        let shares = split.counts.map { Double($0) / Double(max(1, split.counts.reduce(0, +))) }
        let observed = zip(variants, shares).map { "\($0.name) \(Self.percent($1))" }.joined(separator: ", ")
        return ExperimentReport.Split(
            expected: expected,
            observed: split.counts,
            pValue: split.pValue,
            mismatched: mismatched,
            summary: mismatched
                ? "off: \(observed) against \(Self.shares(variants)) (p \(Self.number(split.pValue)))"
                : "as configured: \(observed)"
        )
    }

    /// Whether the split is checked: units assigned at random, all of one kind.
    private var splitChecked: Bool { randomSplit && !countedRequests }

    /// What a unit is, for people: `request` or `user`.
    public var unitName: String { perUser ? "user" : "request" }

    private var assumptions: [String] {
        var result = [
            perUser
                ? "a unit is a user, by their first request since the split began (the proxy counts each sticky user "
                    + "once; a new user's variant is drawn at random with the shares); what a user does after that "
                    + "request is not counted"
                : "a unit is a request; requests are taken as independent",
            "intervals are anytime-valid confidence sequences from the central limit theorem: valid at every look, "
                + "once each variant has \(MeanDifference.minimumUnits) \(unitName)s",
            "relative changes are shown against A's mean; \"no meaningful difference\" holds against the end of A's "
                + "own interval nearest 0",
        ]
        let queryGoals = spec.goals.filter { if case .query = $0.metric { true } else { false } }.map(\.name)
        if !queryGoals.isEmpty {
            result.append(
                "for \(queryGoals.map { "`\($0)`" }.joined(separator: ", ")), a unit is one window's query value, "
                    + "compared as it is (a total grows with a variant's share of the traffic: divide by its requests); "
                    + "windows are taken as independent (a range no longer than the window), and it needs "
                    + "\(MeanDifference.minimumUnits) windows a variant"
            )
        }
        if countedRequests {
            result.append(
                "some windows counted requests, not users (a data plane without user counts): their evidence is "
                    + "overstated"
            )
        }
        if variants.count > 2 {
            result.append("α is divided among the \(variants.count - 1) variants compared with A")
        }
        return result + notes
    }

    private static func summary(_ goal: ExperimentReport.Goal?, mismatched: Bool) -> String {
        guard let goal else { return "" }
        if mismatched { return "the split is off: no verdict on \(goal.name) stands" }
        return goal.comparisons.map { comparison in
            var text =
                switch comparison.verdict {
                case .better, .worse: "\(comparison.variant) \(comparison.verdict.text) on \(goal.name)"
                case .noMeaningfulDifference:
                    "no meaningful difference between \(comparison.variant) and A on \(goal.name)"
                case .inconclusive: "\(comparison.variant) against A inconclusive on \(goal.name)"
                }
            if let relative = comparison.relative, let lower = comparison.relativeLower,
                let upper = comparison.relativeUpper
            {
                text += " (\(signedPercent(relative)), interval \(signedPercent(lower)) to \(signedPercent(upper)))"
            }
            return text
        }.joined(separator: "; ")
    }

    static func measure(of goal: ExperimentGoal) -> String {
        switch goal.metric {
        case .outcome(let name): return "`\(name)` reported per request (X-Slipway-Outcome)"
        case .success: return "share of requests answered below 500"
        case .latency: return "response time in milliseconds"
        case .query: return "the query's value per window, asked about each variant's version"
        }
    }

    private static func shares(_ variants: [Variant]) -> String {
        variants.map { "\($0.name) \(percent($0.share))" }.joined(separator: ", ")
    }

    static func percent(_ fraction: Double) -> String {
        let value = (fraction * 1_000).rounded() / 10
        return value == value.rounded() ? "\(Int(value))%" : "\(value)%"
    }

    static func signedPercent(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "−") + percent(abs(fraction))
    }

    static func number(_ value: Double) -> String {
        value >= 0.001 ? String(Double((value * 1_000).rounded() / 1_000)) : "< 0.001"
    }
}

extension Experiment {
    /// A comparison's confidence sequence so far: the largest lower end and the smallest upper end seen.
    public struct Bounds: Sendable, Equatable {
        public private(set) var lower = -Double.infinity
        public private(set) var upper = Double.infinity

        /// No bounds yet.
        init() {}

        init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }

        /// Intersects the bounds with the latest interval.
        mutating func narrow(to estimate: MeanDifference.Estimate) {
            lower = max(lower, estimate.lower)
            upper = min(upper, estimate.upper)
        }
    }
}
