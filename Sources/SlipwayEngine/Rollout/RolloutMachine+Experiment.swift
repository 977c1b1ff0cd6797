import SlipwayConfig
import SlipwayCore

/// The experiment step of an `abTest` rollout: it counts the windows, records each change of verdict, concludes at
/// its end condition, and then holds the rollout for a person's choice.
extension RolloutMachine {
    /// How often a running experiment's counts are recorded (besides every change of verdict): at most this much of
    /// the experiment's traffic is lost to a controller restart.
    static let experimentCheckpointInterval = Duration.seconds(15)

    /// Begins the experiment on the split in force; a restored rollout carries on from its last checkpoint.
    mutating func startExperiment(_ spec: ExperimentSpec, at now: Moment, into actions: inout [Action]) {
        var share = 0.5
        var randomSplit = true
        if case .abTest(let abTest) = plan.strategy.kind {
            share = Double(abTest.weight.basisPoints) / 10_000
            randomSplit = abTest.match.isEmpty && abTest.stickiness == nil
        }
        let variants = [
            Experiment.Variant(name: "A", version: plan.stable.version, share: 1 - share),
            Experiment.Variant(name: "B", version: plan.candidate.version, share: share),
        ]
        if let checkpoint = restoredExperiment.take(),
            let restored = Experiment(
                restoring: checkpoint,
                rolloutStartedAt: startedAt,
                spec: spec,
                app: plan.app,
                rollout: plan.number,
                variants: variants,
                notes: experimentNotes,
                randomSplit: randomSplit
            )
        {
            experiment = restored
            experimentRecordedAt = now
            let summary = restored.report(at: now).summary
            actions.append(record(.experimentCheckpoint, ["restored": true, "summary": .string(summary)]))
            return
        }
        let experiment = Experiment(
            spec: spec,
            app: plan.app,
            rollout: plan.number,
            variants: variants,
            notes: experimentNotes,
            randomSplit: randomSplit,
            at: now
        )
        self.experiment = experiment
        experimentRecordedAt = now
        var fields: [String: JSONValue] = [
            "variants": .array(
                variants.map { variant in
                    .object([
                        "name": .string(variant.name),
                        "version": .string(variant.version),
                        "share": .double(variant.share),
                    ])
                }
            ),
            "goals": .array(spec.goals.map { .string($0.name) }),
            "alpha": .double(spec.alpha),
            "minimumEffect": .double(spec.minimumEffect),
            "stopOnDecision": .bool(spec.stopOnDecision),
        ]
        if let duration = spec.duration { fields["duration"] = .string(DurationText.format(duration)) }
        if let size = spec.sampleSize { fields["sampleSize"] = .int(size) }
        actions.append(record(.experimentStarted, fields))
    }

    /// Counts one window; records the verdicts that changed, and the conclusion when the end condition is met.
    mutating func observeExperiment(_ window: MetricsWindow, at now: Moment, into actions: inout [Action]) {
        // A window that began before the experiment holds traffic from before its split.
        guard var experiment, experiment.conclusion == nil, window.start >= experiment.startedAt else { return }
        let before = experiment.report(at: now)
        experiment.observe(window)
        let after = experiment.report(at: now)
        let changed = zip(before.goals, after.goals).filter { old, new in
            old.comparisons.map(\.verdict) != new.comparisons.map(\.verdict)
        }.map(\.1.name)
        if !changed.isEmpty || before.split.mismatched != after.split.mismatched {
            let names = changed + (before.split.mismatched != after.split.mismatched ? ["split"] : [])
            actions.append(
                record(
                    .experimentUpdated,
                    [
                        "changed": .array(names.map { .string($0) }),
                        "summary": .string(after.summary),
                        "report": after.json,
                        "checkpoint": experiment.checkpoint(rolloutStartedAt: startedAt).json,
                    ]
                )
            )
            experimentRecordedAt = now
        }
        self.experiment = experiment
        if let reason = experiment.endCondition(at: now) {
            endExperiment(reason, awaitingChoice: true, at: now, into: &actions)
        } else if now - (experimentRecordedAt ?? experiment.startedAt) >= Self.experimentCheckpointInterval {
            actions.append(
                record(
                    .experimentCheckpoint,
                    [
                        "summary": .string(after.summary),
                        "checkpoint": experiment.checkpoint(rolloutStartedAt: startedAt, withHistory: false).json,
                    ]
                )
            )
            experimentRecordedAt = now
        }
    }

    /// Concludes a running experiment for `reason` and records its report; nothing when none runs. `awaitingChoice`:
    /// it met its end condition and the rollout now waits for a person (else a command or a rollback ended it).
    mutating func endExperiment(
        _ reason: String,
        awaitingChoice: Bool = false,
        at now: Moment,
        into actions: inout [Action]
    ) {
        guard var experiment, experiment.conclusion == nil else { return }
        experiment.conclude(reason, at: now, awaitingChoice: awaitingChoice)
        self.experiment = experiment
        let report = experiment.report(at: now)
        actions.append(
            record(
                .experimentConcluded,
                [
                    "reason": .string(reason),
                    "summary": .string(report.summary),
                    "verdict": .string(report.primaryVerdict.rawValue),
                    "report": report.json,
                    "checkpoint": experiment.checkpoint(rolloutStartedAt: startedAt).json,
                ]
            )
        )
    }

    /// What the experiment step waits for, in words.
    func experimentWaitingFor(at now: Moment) -> String {
        guard let experiment else { return "the experiment" }
        let report = experiment.report(at: now)
        guard let conclusion = experiment.conclusion else {
            return "experiment running: \(report.summary)"
        }
        return "experiment concluded (\(conclusion.reason)): \(report.summary); promote keeps "
            + "\(plan.candidate.version), abort keeps \(plan.stable.version)"
    }

    /// What the experiment's evidence assumes that this rollout's routing does not give.
    var experimentNotes: [String] {
        guard let routing = plan.strategy.routing else { return [] }
        var notes: [String] = []
        if routing.stickiness != nil {
            notes.append(
                "sticky traffic: a user's requests stay on one variant and are not independent, so the intervals are "
                    + "overstated"
            )
        }
        if !routing.match.isEmpty {
            notes.append(
                "match rules: B serves the requests a rule sends, a segment chosen by their content, so the variants "
                    + "do not see the same traffic"
            )
        }
        return notes
    }
}
