import Foundation
import SlipwayCore

/// Where an experiment stands: per goal, every variant's figures and each variant's comparison with the control,
/// the split check and the assumptions. The same value is shown by the CLI, the API, the dashboard and the events.
public struct ExperimentReport: Sendable, Equatable, Codable {
    /// A goal's answer for one variant against the control.
    public enum Verdict: String, Sendable, Equatable, Codable {
        /// The variant is better than the control on this goal (its interval excludes no difference).
        case better
        /// The variant is worse.
        case worse
        /// The interval lies within ± the minimum effect that matters.
        case noMeaningfulDifference
        /// None of the above yet: more data would tell.
        case inconclusive

        /// `better`, `worse`, `no meaningful difference` or `inconclusive`.
        public var text: String {
            self == .noMeaningfulDifference ? "no meaningful difference" : rawValue
        }
    }

    /// One variant's own figures on a goal.
    public struct VariantFigures: Sendable, Equatable, Codable {
        /// `A`, `B`, ….
        public var name: String
        /// The version it runs.
        public var version: String
        /// Units (requests) measured.
        public var units: Int
        /// The goal's mean per unit; nil without units.
        public var mean: Double?
        /// Its confidence interval; nil below the minimum sample.
        public var lower: Double?
        public var upper: Double?
    }

    /// One variant against the control on a goal.
    public struct Comparison: Sendable, Equatable, Codable {
        /// The variant's name.
        public var variant: String
        /// The answer so far.
        public var verdict: Verdict
        /// Why, in a few words.
        public var reason: String
        /// The variant's mean minus the control's, with its confidence interval; nil below the minimum sample.
        public var difference: Double?
        public var lower: Double?
        public var upper: Double?
        /// The same relative to the control's mean (0.05 = 5% higher); nil when the control's mean is 0.
        public var relative: Double?
        public var relativeLower: Double?
        public var relativeUpper: Double?
        /// The e-value against "no difference" and the anytime p-value.
        public var eValue: Double?
        public var pValue: Double
        /// The level this comparison is held to (the experiment's, divided among the variants).
        public var alpha: Double
        /// The difference and its interval as they were over time, oldest first (at most ``Point/limit``).
        public var history: [Point] = []
    }

    /// The difference of a comparison and its interval at one moment.
    public struct Point: Sendable, Equatable, Codable {
        /// At most this many points are kept: when full, every other one is dropped.
        public static let limit = 120

        /// Seconds since the experiment began.
        public var seconds: Double
        public var difference: Double
        public var lower: Double
        public var upper: Double

        /// A point.
        public init(seconds: Double, difference: Double, lower: Double, upper: Double) {
            self.seconds = seconds
            self.difference = difference
            self.lower = lower
            self.upper = upper
        }
    }

    /// One goal.
    public struct Goal: Sendable, Equatable, Codable {
        /// The goal's name: the outcome's, `success` or `latency`.
        public var name: String
        /// What a unit's value is, in words.
        public var measure: String
        /// `higher` or `lower`.
        public var better: String
        /// The smallest relative change that matters.
        public var minimumEffect: Double
        /// Every variant's figures, the control first.
        public var variants: [VariantFigures]
        /// Every other variant against the control.
        public var comparisons: [Comparison]
    }

    /// The split check.
    public struct Split: Sendable, Equatable, Codable {
        /// Each variant's share as configured, in variant order.
        public var expected: [Double]
        /// Units each variant got.
        public var observed: [Int]
        /// The anytime p-value of the check; nil when the routing makes it meaningless.
        public var pValue: Double?
        /// Whether the split is off (then no verdict stands).
        public var mismatched: Bool
        /// What the check says, in words.
        public var summary: String
    }

    /// The app and the rollout the experiment runs in.
    public var app: String
    public var rollout: Int
    /// `running`, or `concluded` once its end condition was met.
    public var state: String
    /// Why it concluded, when it did.
    public var conclusion: String?
    /// Whether the experiment concluded by its own end condition and the rollout now waits for a person to choose
    /// (`promote` keeps the variant, `abort` the control); false while it runs, or when a command or a rollback ended
    /// it.
    public var awaitingChoice: Bool
    /// How long it has run, in seconds (the events say when it started).
    public var elapsedSeconds: Double
    /// The experiment's level.
    public var alpha: Double
    /// The goals, the primary one first.
    public var goals: [Goal]
    /// The split check.
    public var split: Split
    /// What a unit is: `user` for sticky traffic, counted once each; nil (or `request`) for requests.
    public var unit: String?
    /// What the evidence assumes about the routing.
    public var assumptions: [String]
    /// One line for people: the primary goal's answer for every variant.
    public var summary: String

    /// The primary goal's verdict for the first variant other than the control.
    public var primaryVerdict: Verdict {
        goals.first?.comparisons.first?.verdict ?? .inconclusive
    }

    /// The report as a JSON value, for events and the API.
    public var json: JSONValue {
        JSONValue(encoding: self) ?? .null
    }

    /// A report read back from its JSON value; nil when it is not one.
    public init?(json: JSONValue) {
        guard let report = json.decoded(as: ExperimentReport.self) else { return nil }
        self = report
    }

    init(
        app: String,
        rollout: Int,
        state: String,
        conclusion: String?,
        awaitingChoice: Bool,
        elapsedSeconds: Double,
        alpha: Double,
        goals: [Goal],
        split: Split,
        unit: String? = nil,
        assumptions: [String],
        summary: String
    ) {
        self.app = app
        self.rollout = rollout
        self.state = state
        self.conclusion = conclusion
        self.awaitingChoice = awaitingChoice
        self.elapsedSeconds = elapsedSeconds
        self.alpha = alpha
        self.goals = goals
        self.split = split
        self.unit = unit
        self.assumptions = assumptions
        self.summary = summary
    }
}
