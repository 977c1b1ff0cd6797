import Foundation
import SlipwayConfig
import SlipwayCore

/// What carries out an experiment's providers: HTTP requests, processes, and Slipway's functions through the
/// controller. The runner holds the order and the rules; the driver only acts.
public protocol ChaosExperimentDriver: Sendable {
    /// Runs `provider` and returns its output; throws when it could not run (an HTTP request with no answer, a
    /// refused function).
    func run(_ provider: ChaosExperimentSpec.Provider) async throws -> JSONValue
    /// `app`'s share of 5xx responses over the last `window`, for the safeguard.
    func errorRate(app: String, window: Duration) async throws -> Double
    /// Removes every fault the experiment added; run last, whatever happened.
    func removeAddedFaults() async throws -> JSONValue
    /// The method begins (`true`) or has ended (`false`): the moments steady-state probes compare against.
    func method(started: Bool) async
}

extension ChaosExperimentDriver {
    public func method(started: Bool) async {}
}

/// Runs a chaos experiment: checks the hypothesis, runs the method, checks the hypothesis again, and always runs
/// the rollbacks and removes the faults it added, also when interrupted or aborted by its safeguard.
public struct ChaosExperimentRunner: Sendable {
    let spec: ChaosExperimentSpec
    let driver: any ChaosExperimentDriver
    let isInterrupted: @Sendable () -> Bool
    let clock: @Sendable () -> Date
    /// How often pauses look at the safeguard and the interruption.
    let tick: Duration

    /// A runner of `spec` with `driver`; `isInterrupted` is asked between activities and during pauses.
    public init(
        spec: ChaosExperimentSpec,
        driver: any ChaosExperimentDriver,
        isInterrupted: @escaping @Sendable () -> Bool,
        clock: @escaping @Sendable () -> Date = { Date() },
        tick: Duration = .milliseconds(200)
    ) {
        self.spec = spec
        self.driver = driver
        self.isInterrupted = isInterrupted
        self.clock = clock
        self.tick = tick
    }

    /// Why the method stopped early.
    private enum Stop: Error {
        case interrupted
        case aborted(String)
    }

    /// Runs the experiment to its end; `progress` is told of each activity as it ends.
    public func run(progress: @Sendable (String, ChaosJournal.Run) -> Void = { _, _ in }) async -> ChaosJournal {
        let start = clock()
        var journal = ChaosJournal(
            chaoslibVersion: "slipway \(SlipwayBuild.version)",
            node: ProcessInfo.processInfo.hostName,
            experiment: spec.document,
            start: start,
            end: start,
            duration: 0,
            status: .completed,
            deviated: false,
            steadyStates: ChaosJournal.SteadyStates(),
            run: [],
            rollbacks: []
        )
        do {
            if let hypothesis = spec.hypothesis {
                let before = await steadyState(hypothesis, phase: "before", progress: progress)
                journal.steadyStates.before = before
                if !before.met {
                    journal.status = .failed
                    journal.reason = "the steady state did not hold before the method"
                    throw Stop.aborted("")
                }
            }
            await driver.method(started: true)
            for activity in spec.method {
                try check()
                try await pause(activity.pauseBefore)
                let run = await perform(activity)
                journal.run.append(run)
                progress("method", run)
                try await pause(activity.pauseAfter)
            }
            await driver.method(started: false)
            try check()
            if let hypothesis = spec.hypothesis {
                let after = await steadyState(hypothesis, phase: "after", progress: progress)
                journal.steadyStates.after = after
                journal.deviated = !after.met
            }
        } catch Stop.interrupted {
            journal.status = .interrupted
            journal.reason = "interrupted"
            journal.deviated = spec.hypothesis != nil
        } catch Stop.aborted(let why) {
            if journal.status != .failed {
                journal.status = .aborted
                journal.reason = why
                journal.deviated = spec.hypothesis != nil
            }
        } catch {
            journal.status = .aborted
            journal.reason = "\(error)"
        }
        // Always, whatever happened, and never cut short.
        for activity in spec.rollbacks {
            let run = await perform(activity)
            journal.rollbacks.append(run)
            progress("rollback", run)
        }
        let cleanupStart = clock()
        let cleanup: ChaosJournal.Run
        do {
            let output = try await driver.removeAddedFaults()
            cleanup = Self.run(
                .object(["name": "remove the experiment's faults", "type": "action"]),
                output: output,
                error: nil,
                from: cleanupStart,
                to: clock()
            )
        } catch {
            cleanup = Self.run(
                .object(["name": "remove the experiment's faults", "type": "action"]),
                output: nil,
                error: "\(error)",
                from: cleanupStart,
                to: clock()
            )
        }
        journal.rollbacks.append(cleanup)
        progress("rollback", cleanup)
        journal.end = clock()
        journal.duration = journal.end.timeIntervalSince(start)
        return journal
    }

    private func steadyState(
        _ hypothesis: ChaosExperimentSpec.Hypothesis,
        phase: String,
        progress: @Sendable (String, ChaosJournal.Run) -> Void
    ) async -> ChaosJournal.SteadyState {
        var runs: [ChaosJournal.Run] = []
        for probe in hypothesis.probes {
            var run = await perform(probe)
            run.toleranceMet =
                run.status == "succeeded" && (probe.tolerance.map { Self.within(run.output, $0) } ?? true)
            runs.append(run)
            progress("hypothesis \(phase)", run)
        }
        return ChaosJournal.SteadyState(met: runs.allSatisfy { $0.toleranceMet == true }, probes: runs)
    }

    private func perform(_ activity: ChaosExperimentSpec.Activity) async -> ChaosJournal.Run {
        let start = clock()
        do {
            let output = try await driver.run(activity.provider)
            return Self.run(activity.document, output: output, error: nil, from: start, to: clock())
        } catch {
            return Self.run(activity.document, output: nil, error: "\(error)", from: start, to: clock())
        }
    }

    private static func run(
        _ activity: JSONValue,
        output: JSONValue?,
        error: String?,
        from start: Date,
        to end: Date
    ) -> ChaosJournal.Run {
        ChaosJournal.Run(
            activity: activity,
            output: output,
            status: error == nil ? "succeeded" : "failed",
            exception: error,
            toleranceMet: nil,
            start: start,
            end: end,
            duration: end.timeIntervalSince(start)
        )
    }

    /// Throws when the run is interrupted, or when the safeguard's bound is passed.
    private func check() throws(Stop) {
        if isInterrupted() { throw .interrupted }
    }

    private func checkSafeguard() async throws(Stop) {
        guard let safeguard = spec.safeguard else { return }
        guard let rate = try? await driver.errorRate(app: safeguard.app, window: safeguard.window) else { return }
        if rate > safeguard.maxErrorRate {
            throw .aborted(
                "the safeguard: \(safeguard.app)'s error rate \(Self.percent(rate)) passed "
                    + "\(Self.percent(safeguard.maxErrorRate))"
            )
        }
    }

    /// Waits `duration`, looking at the interruption every tick and at the safeguard every second.
    private func pause(_ duration: Duration?) async throws(Stop) {
        try await checkSafeguard()
        guard let duration, duration > .zero else { return }
        let end = ContinuousClock.now + duration
        var lastGuard = ContinuousClock.now
        while ContinuousClock.now < end {
            try check()
            if ContinuousClock.now - lastGuard >= .seconds(1) {
                try await checkSafeguard()
                lastGuard = ContinuousClock.now
            }
            try? await Task.sleep(for: min(tick, end - ContinuousClock.now))
        }
        try check()
    }

    private static func percent(_ value: Double) -> String {
        String(format: "%.2f%%", value * 100)
    }

    /// Whether `output` is within `tolerance`: an HTTP or process output is judged by its `status` (and a regular
    /// expression by its body or standard output); any other output by itself.
    public static func within(_ output: JSONValue?, _ tolerance: ChaosExperimentSpec.Tolerance) -> Bool {
        guard let output else { return false }
        var subject = output
        var text: String? = output.stringValue
        if case .object(let object) = output {
            if let status = object["status"] ?? object["held"] { subject = status }
            text = object["body"]?.stringValue ?? object["stdout"]?.stringValue
        }
        switch tolerance {
        case .equals(let expected):
            return same(subject, expected)
        case .oneOf(let options):
            return options.contains { same(subject, $0) }
        case .range(let lower, let upper):
            guard let number = subject.numberValue else { return false }
            return number >= lower && number <= upper
        case .regex(let pattern):
            guard let text, let regex = try? Regex(pattern) else { return false }
            return text.contains(regex)
        }
    }

    private static func same(_ value: JSONValue, _ expected: JSONValue) -> Bool {
        if let number = value.numberValue, let wanted = expected.numberValue { return number == wanted }
        if case .string(let text) = expected, let number = value.numberValue, let wanted = Double(text) {
            return number == wanted
        }
        return value == expected
    }
}
