import SlipwayConfig
import SlipwayCore

/// One analysis step in progress: windows are judged one by one until enough pass or too many fail.
///
/// Inconclusive windows (too little traffic) count toward neither; the rollout's step deadline bounds the wait.
public struct AnalysisRun: Sendable, Equatable {
    /// Where the run stands after a window.
    public enum Progress: Sendable, Equatable {
        /// More windows are needed.
        case running
        /// `windows` windows passed.
        case passed
        /// More than `failureLimit` windows failed.
        case failed
    }

    /// The step's settings.
    public let step: AnalysisStepSpec
    /// The checks judged (the step's own, else the app's).
    public let checks: [AnalysisCheck]
    /// Requests a window needs unless a check says otherwise.
    public let minRequests: Int
    /// The version judged.
    public let version: String
    /// Windows that passed, failed and were inconclusive so far.
    public private(set) var passes = 0
    public private(set) var failures = 0
    public private(set) var inconclusive = 0
    /// The latest judgement.
    public private(set) var last: WindowJudgement?

    /// A run of `step` on `version`, with the app's analysis settings.
    public init(step: AnalysisStepSpec, analysis: AnalysisSpec, version: String) {
        self.step = step
        self.checks = step.checks ?? analysis.checks
        self.minRequests = analysis.minRequests
        self.version = version
    }

    /// Judges one more window.
    public mutating func judge(_ window: MetricsWindow) -> (WindowJudgement, Progress) {
        let judgement = WindowJudgement(checks: checks, minRequests: minRequests, version: version, window: window)
        last = judgement
        switch judgement.verdict {
        case .pass: passes += 1
        case .fail: failures += 1
        case .inconclusive: inconclusive += 1
        }
        if failures > step.failureLimit { return (judgement, .failed) }
        if passes >= step.windows { return (judgement, .passed) }
        return (judgement, .running)
    }

    /// The run's tally as event fields.
    public var tally: [String: JSONValue] {
        [
            "passes": .int(passes),
            "failures": .int(failures),
            "inconclusive": .int(inconclusive),
            "windowsNeeded": .int(step.windows),
            "failureLimit": .int(step.failureLimit),
        ]
    }
}
