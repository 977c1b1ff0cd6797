import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// A simulated A/B test: requests split at random between A and B window by window, each converting with its
/// variant's rate, fed to the engine's ``Experiment`` until it concludes.
public struct ExperimentScenario: Sendable {
    /// What the table calls it.
    public var name: String
    /// The conversion rate of A and of B.
    public var rateA: Double
    public var rateB: Double
    /// B's share of requests.
    public var weight: Double
    /// Requests per window, and the most windows run.
    public var requestsPerWindow: Int
    public var windows: Int
    /// The experiment's settings.
    public var spec: ExperimentSpec

    /// A scenario.
    public init(
        name: String,
        rateA: Double,
        rateB: Double,
        weight: Double = 0.5,
        requestsPerWindow: Int = 200,
        windows: Int = 200,
        spec: ExperimentSpec
    ) {
        self.name = name
        self.rateA = rateA
        self.rateB = rateB
        self.weight = weight
        self.requestsPerWindow = requestsPerWindow
        self.windows = windows
        self.spec = spec
    }

    /// How one run ended.
    public struct Outcome: Sendable {
        /// The primary goal's verdict when the experiment concluded, or at the last window.
        public var verdict: ExperimentReport.Verdict
        /// B's requests when it concluded; nil when it never did.
        public var concludedAfter: Int?
        /// The final report.
        public var report: ExperimentReport
    }

    /// One run from `seed`.
    public func run(seed: UInt64) -> Outcome {
        var random = SeededGenerator(seed: seed)
        var experiment = Experiment(
            spec: spec,
            app: "shop",
            rollout: 1,
            variants: [
                Experiment.Variant(name: "A", version: "1.0.0", share: 1 - weight),
                Experiment.Variant(name: "B", version: "2.0.0", share: weight),
            ],
            at: .zero
        )
        var now = Moment.zero
        var requestsB = 0
        for _ in 0..<windows {
            let start = now
            now = now + .seconds(10)
            let b = random.binomial(requestsPerWindow, weight)
            let a = requestsPerWindow - b
            requestsB += b
            let converted = (a: Double(random.binomial(a, rateA)), b: Double(random.binomial(b, rateB)))
            let window = MetricsWindow(
                start: start,
                end: now,
                versions: [
                    "1.0.0": VersionWindow(
                        requests: a,
                        errors: 0,
                        outcomes: [
                            "converted": OutcomeTally(
                                responses: Int(converted.a),
                                sum: converted.a,
                                sumOfSquares: converted.a
                            )
                        ]
                    ),
                    "2.0.0": VersionWindow(
                        requests: b,
                        errors: 0,
                        outcomes: [
                            "converted": OutcomeTally(
                                responses: Int(converted.b),
                                sum: converted.b,
                                sumOfSquares: converted.b
                            )
                        ]
                    ),
                ]
            )
            experiment.observe(window)
            if let reason = experiment.endCondition(at: now) {
                experiment.conclude(reason, at: now, awaitingChoice: true)
                let report = experiment.report(at: now)
                return Outcome(verdict: report.primaryVerdict, concludedAfter: requestsB, report: report)
            }
        }
        let report = experiment.report(at: now)
        return Outcome(verdict: report.primaryVerdict, concludedAfter: nil, report: report)
    }
}
