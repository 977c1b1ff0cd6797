import SlipwayConfig
import SlipwayCore

/// A mirror step: the proxy copies a share of the other versions' requests to the candidate, and the candidate is
/// judged on its answers to them (the shadow) against the users' answers to the same requests (the originals).
///
/// The step lasts its `duration` at least, and ends once that many windows passed (and the `analysis.compare`
/// comparisons have their samples without harm). A failing window beyond `failureLimit`, or a comparison that finds
/// harm, rolls back at once. Too few copies to judge (inconclusive windows) hold the step until `progressDeadline`
/// past its duration, which rolls back.
extension RolloutMachine {
    /// The mirror step in progress, nil otherwise.
    var mirroring: MirrorStepSpec? {
        if case .mirror(let spec) = currentStep { return spec }
        return nil
    }

    mutating func startMirror(_ spec: MirrorStepSpec, at now: Moment) {
        pauseEnds = now + spec.duration
        stepDeadline = now + spec.duration + plan.strategy.progressDeadline
        analysisRun = AnalysisRun(step: spec.analysis, analysis: plan.analysis, version: plan.candidate.version)
        mirrorComparison =
            plan.analysis.compare.isEmpty
            ? nil
            : BaselineComparison(
                checks: plan.analysis.compare,
                alpha: plan.analysis.alpha,
                candidate: plan.candidate.version,
                baseline: plan.stable.version,
                notes: [
                    "mirrored requests: the candidate's answers to copies against the users' answers to the same "
                        + "requests; a copy reaches the candidate a moment after the original reaches its instance"
                ]
            )
    }

    /// Whether the mirror step has done its work: its duration is over, and enough windows passed.
    mutating func mirrorFinished(at now: Moment) -> Bool {
        if stepDone {
            waitingFor = nil
            return true
        }
        let passed = analysisRun.map { $0.passes >= $0.step.windows } ?? true
        let compared = mirrorComparison?.passes ?? true
        let elapsed = pauseEnds.map { now >= $0 } ?? true
        if let run = analysisRun, !passed {
            waitingFor = "mirror: \(run.passes) of \(run.step.windows) windows of copies passed"
        } else if !compared {
            waitingFor = "mirror: the comparisons with \(plan.stable.version) need more copies"
        } else {
            waitingFor = elapsed ? nil : "mirror: copies go on until the step's duration is over"
        }
        return passed && compared && elapsed
    }

    /// Judges one window of mirrored requests.
    mutating func judgeMirror(_ window: MetricsWindow?, at now: Moment, into actions: inout [Action]) {
        guard outcome == nil, rollback == nil, !pausedByUser, !stepDone, let window, var run = analysisRun else {
            return
        }
        if var comparison = mirrorComparison {
            comparison.observe(window)
            mirrorComparison = comparison
            if !comparison.harmful.isEmpty {
                return rollBack(
                    harmFoundBy: comparison,
                    analysis: "mirror",
                    extra: ["mirrored": .object(Self.mirrorCounts(window))],
                    reason:
                        "the mirror step found the candidate's answers to copies worse than \(plan.stable.version)'s",
                    at: now,
                    into: &actions
                )
            }
        }
        let (judgement, progress) = run.judge(window)
        analysisRun = run
        var fields = judgement.fields
        fields["analysis"] = .string(currentStep?.description ?? "mirror")
        fields["step"] = .int(stepIndex)
        fields["mirrored"] = .object(Self.mirrorCounts(window))
        for (key, value) in run.tally { fields[key] = value }
        if let comparison = mirrorComparison { Self.add(comparison, to: &fields, beside: judgement) }
        actions.append(record(.analysisJudged, fields))
        if progress == .failed {
            startRollback(
                .rolledBack,
                reason: "the mirror step failed at step \(stepIndex + 1): the candidate's answers to copies failed "
                    + judgement.failing.map(\.check.text).joined(separator: ", "),
                evidence: fields,
                at: now,
                into: &actions
            )
        }
    }

    /// Requests and 5xx per version in a mirror window: the copies under the candidate, the originals under the
    /// versions that served them.
    static func mirrorCounts(_ window: MetricsWindow) -> [String: JSONValue] {
        window.versions.mapValues { traffic in
            .object(["requests": .int(traffic.requests), "errors": .int(traffic.errors)])
        }
    }
}
