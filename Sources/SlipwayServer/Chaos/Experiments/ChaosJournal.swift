import Foundation
import SlipwayCore

/// What a chaos experiment did, close to Chaos Toolkit's journal: its status, whether the steady state deviated,
/// the hypothesis before and after, and each activity with its start, end and output.
public struct ChaosJournal: Sendable, Equatable, Codable {
    /// How an experiment ended.
    public enum Status: String, Sendable, Equatable, Codable {
        /// It ran to its end (the hypothesis may have deviated: see ``ChaosJournal/deviated``).
        case completed
        /// The hypothesis did not hold before the method: nothing was done.
        case failed
        /// A safeguard stopped it.
        case aborted
        /// It was interrupted (`SIGINT`, `SIGTERM`).
        case interrupted
    }

    /// One activity's run.
    public struct Run: Sendable, Equatable, Codable {
        /// The activity as written.
        public var activity: JSONValue
        /// What it gave.
        public var output: JSONValue?
        /// `succeeded` or `failed`.
        public var status: String
        /// Why it failed.
        public var exception: String?
        /// For a hypothesis probe: whether its output was within its tolerance.
        public var toleranceMet: Bool?
        public var start: Date
        public var end: Date
        /// Seconds.
        public var duration: Double

        enum CodingKeys: String, CodingKey {
            case activity, output, status, exception, start, end, duration
            case toleranceMet = "tolerance_met"
        }
    }

    /// The hypothesis at one moment.
    public struct SteadyState: Sendable, Equatable, Codable {
        /// Whether every probe was within its tolerance.
        public var met: Bool
        public var probes: [Run]

        enum CodingKeys: String, CodingKey {
            case met = "steady_state_met"
            case probes
        }
    }

    /// The hypothesis before and after the method.
    public struct SteadyStates: Sendable, Equatable, Codable {
        public var before: SteadyState?
        public var after: SteadyState?
        public var during: [SteadyState] = []
    }

    /// What ran it.
    public var chaoslibVersion: String
    public var node: String
    /// The experiment as written.
    public var experiment: JSONValue
    public var start: Date
    public var end: Date
    /// Seconds.
    public var duration: Double
    public var status: Status
    /// Whether the hypothesis failed after the method (or the run was stopped before it could be checked).
    public var deviated: Bool
    /// Why it was aborted or interrupted.
    public var reason: String?
    public var steadyStates: SteadyStates
    public var run: [Run]
    public var rollbacks: [Run]

    enum CodingKeys: String, CodingKey {
        case chaoslibVersion = "chaoslib-version"
        case node, experiment, start, end, duration, status, deviated, reason, run, rollbacks
        case steadyStates = "steady_states"
    }

    /// The exit status of `slipway chaos run`: 0 the hypothesis held, 1 it deviated, 2 the run failed or was aborted,
    /// 3 it was interrupted.
    public var exitCode: Int32 {
        switch status {
        case .completed: deviated ? 1 : 0
        case .failed, .aborted: 2
        case .interrupted: 3
        }
    }

    /// The probes whose tolerance failed, in a few words, for messages: `probe "home answers" after the method`.
    public var deviation: String? {
        for (phase, state) in [("after", steadyStates.after), ("before", steadyStates.before)] {
            let failed = (state?.probes ?? []).filter { $0.toleranceMet == false }.map(Self.name)
            guard !failed.isEmpty else { continue }
            return (failed.count == 1 ? "probe " : "probes ") + failed.joined(separator: ", ") + " \(phase) the method"
        }
        return nil
    }

    private static func name(_ run: Run) -> String {
        guard case .object(let object) = run.activity, let name = object["name"]?.stringValue else { return "?" }
        return "\"\(name)\""
    }
}
