import SlipwayCore

extension Experiment {
    /// What an experiment has counted, as the event log keeps it (`experimentCheckpoint`, and with every
    /// `experimentUpdated` and `experimentConcluded`): a restarted controller carries the experiment on from its last
    /// checkpoint instead of starting it again, so the evidence gathered and a conclusion already reached survive.
    public struct Checkpoint: Sendable, Equatable, Codable {
        /// Why and when it concluded.
        public struct Conclusion: Sendable, Equatable, Codable {
            public var reason: String
            /// After the experiment's start.
            public var afterStartMilliseconds: Int64
            public var awaitingChoice: Bool
        }

        /// What it compared: the goals' names, and each variant's version and share. A checkpoint is taken up only
        /// by an experiment of the same goals and variants.
        public var goals: [String]
        public var versions: [String]
        public var shares: [Double]
        /// When the experiment started, after the rollout's start.
        public var startedAfterRolloutMilliseconds: Int64
        /// ``Experiment/sums``.
        public var sums: [[UnitSums]]
        /// ``Experiment/pValues``.
        public var pValues: [[Double]]
        /// ``Experiment/bounds``.
        public var bounds: [[Bounds]]
        /// ``Experiment/history``; nil in the periodic checkpoints, which would otherwise repeat it every time (the
        /// event log keeps the last one that had it).
        public var history: [[[ExperimentReport.Point]]]?
        /// The split's counts per variant and the largest log Bayes factor its check has seen.
        public var split: [Int]
        public var splitLogFactor: Double
        /// Nil while it runs.
        public var conclusion: Conclusion?

        /// The checkpoint as an event field.
        public var json: JSONValue { JSONValue(encoding: self) ?? .null }

        /// A checkpoint read back from an event field; nil when it is not one.
        public init?(json: JSONValue) {
            guard let checkpoint = json.decoded(as: Checkpoint.self) else { return nil }
            self = checkpoint
        }

        init(
            goals: [String],
            versions: [String],
            shares: [Double],
            startedAfterRolloutMilliseconds: Int64,
            sums: [[UnitSums]],
            pValues: [[Double]],
            bounds: [[Bounds]],
            history: [[[ExperimentReport.Point]]]?,
            split: [Int],
            splitLogFactor: Double,
            conclusion: Conclusion?
        ) {
            self.goals = goals
            self.versions = versions
            self.shares = shares
            self.startedAfterRolloutMilliseconds = startedAfterRolloutMilliseconds
            self.sums = sums
            self.pValues = pValues
            self.bounds = bounds
            self.history = history
            self.split = split
            self.splitLogFactor = splitLogFactor
            self.conclusion = conclusion
        }
    }
}

/// JSON has no infinities: an open end of the bounds is written as absent.
extension Experiment.Bounds: Codable {
    private enum CodingKeys: String, CodingKey {
        case lower, upper
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            lower: try values.decodeIfPresent(Double.self, forKey: .lower) ?? -.infinity,
            upper: try values.decodeIfPresent(Double.self, forKey: .upper) ?? .infinity
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var values = encoder.container(keyedBy: CodingKeys.self)
        if lower.isFinite { try values.encode(lower, forKey: .lower) }
        if upper.isFinite { try values.encode(upper, forKey: .upper) }
    }
}
