import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// A simulated A/B(/n) test: requests split at random among the variants window by window, each converting with its
/// variant's rate, fed to the engine's ``Experiment`` until it concludes.
public struct ExperimentScenario: Sendable {
    /// What the table calls it.
    public var name: String
    /// The conversion rate of each variant, A (the control) first.
    public var rates: [Double]
    /// Each variant's share of requests, A first.
    public var shares: [Double]
    /// Requests per window, and the most windows run.
    public var requestsPerWindow: Int
    public var windows: Int
    /// The experiment's settings.
    public var spec: ExperimentSpec

    /// An A/B scenario: B takes `weight` of the requests.
    public init(
        name: String,
        rateA: Double,
        rateB: Double,
        weight: Double = 0.5,
        requestsPerWindow: Int = 200,
        windows: Int = 200,
        spec: ExperimentSpec
    ) {
        self.init(
            name: name,
            rates: [rateA, rateB],
            shares: [1 - weight, weight],
            requestsPerWindow: requestsPerWindow,
            windows: windows,
            spec: spec
        )
    }

    /// A scenario of any number of variants.
    public init(
        name: String,
        rates: [Double],
        shares: [Double],
        requestsPerWindow: Int = 200,
        windows: Int = 200,
        spec: ExperimentSpec
    ) {
        self.name = name
        self.rates = rates
        self.shares = shares
        self.requestsPerWindow = requestsPerWindow
        self.windows = windows
        self.spec = spec
    }

    /// How one run ended.
    public struct Outcome: Sendable {
        /// The primary goal's verdict for B when the experiment concluded, or at the last window.
        public var verdict: ExperimentReport.Verdict
        /// The primary goal's verdict for every variant compared with A (B, C, …), at the same moment.
        public var verdicts: [ExperimentReport.Verdict]
        /// B's requests when it concluded; nil when it never did.
        public var concludedAfter: Int?
        /// The final report.
        public var report: ExperimentReport
    }

    /// One run from `seed`.
    public func run(seed: UInt64) -> Outcome {
        var random = SeededGenerator(seed: seed)
        let versions = rates.indices.map { "\($0 + 1).0.0" }
        var experiment = Experiment(
            spec: spec,
            app: "shop",
            rollout: 1,
            variants: rates.indices.map { index in
                Experiment.Variant(
                    name: String(UnicodeScalar(UInt8(65 + index))),
                    version: versions[index],
                    share: shares[index]
                )
            },
            at: .zero
        )
        var now = Moment.zero
        var requestsB = 0
        func outcome(concluded: Bool) -> Outcome {
            let report = experiment.report(at: now)
            return Outcome(
                verdict: report.primaryVerdict,
                verdicts: report.goals.first?.comparisons.map(\.verdict) ?? [],
                concludedAfter: concluded ? requestsB : nil,
                report: report
            )
        }
        for _ in 0..<windows {
            let start = now
            now = now + .seconds(10)
            // Each request goes to a variant by its share: a binomial draw per variant of what is left.
            var left = requestsPerWindow
            var shareLeft = 1.0
            var window: [String: VersionWindow] = [:]
            for index in rates.indices {
                let requests =
                    index == rates.count - 1 ? left : random.binomial(left, min(1, shares[index] / shareLeft))
                left -= requests
                shareLeft -= shares[index]
                if index == 1 { requestsB += requests }
                let converted = Double(random.binomial(requests, rates[index]))
                window[versions[index]] = VersionWindow(
                    requests: requests,
                    errors: 0,
                    outcomes: [
                        "converted": OutcomeTally(responses: Int(converted), sum: converted, sumOfSquares: converted)
                    ]
                )
            }
            experiment.observe(MetricsWindow(start: start, end: now, versions: window))
            if let reason = experiment.endCondition(at: now) {
                experiment.conclude(reason, at: now, awaitingChoice: true)
                return outcome(concluded: true)
            }
        }
        return outcome(concluded: false)
    }
}
