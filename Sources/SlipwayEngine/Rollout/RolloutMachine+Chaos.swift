import Foundation
import SlipwayConfig
import SlipwayCore

/// The fault a chaos step wants in force: the executor adds it through the chaos desk (so it is recorded, expires by
/// itself and yields to `slipway chaos stop`), owned by the rollout, and removes it when the machine asks for none.
public struct ChaosStepFault: Sendable, Equatable {
    /// The app whose listener takes the fault.
    public var app: String
    /// The fault.
    public var fault: ChaosStepSpec.Fault
    /// How long it may stay in force if nobody removes it (a controller that died meanwhile).
    public var lifetime: Duration
    /// The step it belongs to.
    public var step: Int

    /// Creates a fault of a step.
    public init(app: String, fault: ChaosStepSpec.Fault, lifetime: Duration, step: Int) {
        self.app = app
        self.fault = fault
        self.lifetime = lifetime
        self.step = step
    }
}

/// A chaos step: both versions are watched without the fault for its `before`, then under it for its `duration`; each
/// window goes into a ``ResilienceComparison``, which fails the candidate at once when it degrades more than the
/// stable version. The step ends once the fault's duration is over and every period has the requests the bounds need;
/// too few requests hold it until `progressDeadline`, which rolls back. Pausing takes the fault away until `resume`;
/// windows that began before the fault came or went are left out.
extension RolloutMachine {
    /// Where a chaos step stands.
    struct ChaosRun: Sendable, Equatable {
        var spec: ChaosStepSpec
        /// Whether the fault phase has begun.
        var underFault = false
        /// Windows that began before this moment are left out: the fault came or went during them.
        var countFrom: Moment
        var comparison: ResilienceComparison
    }

    /// The chaos step's comparison so far, while one runs (for status views).
    public var resilience: ResilienceComparison? { chaosRun?.comparison }

    /// The fault the machine wants in force now.
    var wantedChaosFault: ChaosStepFault? {
        guard outcome == nil, rollback == nil, !pausedByUser, !stepDone, let run = chaosRun, run.underFault,
            case .chaos(let spec) = currentStep
        else { return nil }
        return ChaosStepFault(
            app: spec.target ?? plan.app,
            fault: spec.fault,
            lifetime: spec.duration + plan.strategy.progressDeadline,
            step: stepIndex
        )
    }

    mutating func startChaos(_ spec: ChaosStepSpec, at now: Moment, into actions: inout [Action]) {
        pauseEnds = now + spec.before
        stepDeadline = now + spec.before + spec.duration + plan.strategy.progressDeadline
        chaosRun = ChaosRun(
            spec: spec,
            countFrom: now,
            comparison: ResilienceComparison(
                alpha: plan.analysis.alpha,
                errorTolerance: Double(spec.tolerance.errors.basisPoints) / 10_000,
                latencyTolerance: spec.tolerance.latency
            )
        )
        // A fault of this rollout left by a controller that stopped mid-step goes first.
        actions.append(.setChaosFault(nil))
        publishedChaosFault = nil
    }

    /// Asks for the fault wanted now when it differs from the one asked for last.
    mutating func updateChaosFault(at now: Moment, into actions: inout [Action]) {
        let wanted = wantedChaosFault
        guard wanted != publishedChaosFault else { return }
        publishedChaosFault = wanted
        actions.append(.setChaosFault(wanted))
        chaosRun?.countFrom = now
    }

    /// Whether the chaos step has done its work; moves it from watching to the fault when `before` is over.
    mutating func chaosFinished(at now: Moment) -> Bool {
        if stepDone {
            waitingFor = nil
            return true
        }
        guard var run = chaosRun else { return false }
        let elapsed = pauseEnds.map { now >= $0 } ?? true
        if !run.underFault {
            guard elapsed else {
                waitingFor = "chaos: watching both versions without the fault"
                return false
            }
            guard run.comparison.enoughBefore else {
                waitingFor = "chaos: \(requestsNeeded(run.comparison.candidate.before, run.comparison.baseline.before))"
                return false
            }
            run.underFault = true
            chaosRun = run
            pauseEnds = now + run.spec.duration
            waitingFor = "chaos: \(run.spec.fault.description) until the step's duration is over"
            return false
        }
        waitingFor =
            elapsed
            ? "chaos: \(requestsNeeded(run.comparison.candidate.during, run.comparison.baseline.during)) under the fault"
            : "chaos: \(run.spec.fault.description) until the step's duration is over"
        return false
    }

    private func requestsNeeded(
        _ candidate: SteadyStateComparison.Period,
        _ baseline: SteadyStateComparison.Period
    ) -> String {
        let least = ResilienceComparison.minimumRequests
        return "\(least) requests of each version needed (\(plan.candidate.version): \(candidate.latency.total), "
            + "\(plan.stable.version): \(baseline.latency.total))"
    }

    /// Adds one window to the comparison; fails the candidate on harm, ends the step once it has what it needs.
    mutating func judgeChaos(_ window: MetricsWindow, at now: Moment, into actions: inout [Action]) {
        guard outcome == nil, rollback == nil, !pausedByUser, !stepDone, var run = chaosRun,
            window.start >= run.countFrom
        else { return }
        run.comparison.observe(
            candidate: window.versions[plan.candidate.version],
            baseline: window.versions[plan.stable.version],
            underFault: run.underFault
        )
        chaosRun = run
        let comparison = run.comparison
        let finished = run.underFault && (pauseEnds.map { now >= $0 } ?? true) && comparison.enoughDuring
        let verdict = comparison.harmful ? "fail" : finished ? "pass" : "running"
        var fields = chaosFields(run, verdict: verdict)
        if comparison.harmful {
            actions.append(record(.analysisJudged, fields))
            fields["findings"] = .array(comparison.findings.map(JSONValue.string))
            startRollback(
                .rolledBack,
                reason: "the chaos step found \(plan.candidate.version) less resilient than \(plan.stable.version): "
                    + comparison.findings.joined(separator: "; "),
                evidence: fields,
                at: now,
                into: &actions
            )
            return
        }
        actions.append(record(.analysisJudged, fields))
        if finished { stepDone = true }
    }

    /// An `analysisJudged` event's fields for a chaos window: the verdict, a summary, each measure as a check.
    private func chaosFields(_ run: ChaosRun, verdict: String) -> [String: JSONValue] {
        let comparison = run.comparison
        let candidate = comparison.candidate
        let baseline = comparison.baseline
        let phase = run.underFault ? "under the fault" : "without the fault"
        let summary =
            comparison.harmful
            ? comparison.findings.joined(separator: "; ")
            : "\(phase): \(plan.candidate.version) \(candidate.before.requests)+\(candidate.during.requests) requests, "
                + "\(plan.stable.version) \(baseline.before.requests)+\(baseline.during.requests) (before+during); "
                + (verdict == "pass" ? "no more degradation than the stable version" : "no harm found so far")
        let checks = comparison.rises.map { rise -> JSONValue in
            let isErrors = rise.measure == "errors"
            func text(_ value: Double) -> String {
                isErrors ? String(format: "%.2f%%", value * 100) : String(format: "%.1f ms", value * 1000)
            }
            let tolerance =
                isErrors
                ? Double(run.spec.tolerance.errors.basisPoints) / 10_000
                : run.spec.tolerance.latency.inSeconds
            let bound = rise.excessLowerBound.isFinite ? text(rise.excessLowerBound) : "unknown"
            let value =
                "\(plan.candidate.version) \(text(rise.candidateBefore)) → \(text(rise.candidateDuring)), "
                + "\(plan.stable.version) \(text(rise.baselineBefore)) → \(text(rise.baselineDuring)); "
                + "extra rise at least \(bound)"
            let harmed = comparison.harm.contains { $0.measure == rise.measure }
            return .object([
                "check": .string("\(rise.measure) under the fault against \(plan.stable.version)"),
                "value": .string(value),
                "threshold": .string("extra rise ≤ \(text(tolerance))"),
                "requests": .int(candidate.during.requests),
                "verdict": .string(harmed ? "fail" : verdict == "pass" ? "pass" : "inconclusive"),
            ])
        }
        return [
            "analysis": "chaos",
            "step": .int(stepIndex),
            "phase": .string(run.underFault ? "fault" : "before"),
            "verdict": .string(verdict),
            "summary": .string(summary),
            "checks": .array(checks),
            "resilience": .object(comparison.fields),
        ]
    }
}
