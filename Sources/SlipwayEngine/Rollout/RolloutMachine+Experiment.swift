import SlipwayConfig
import SlipwayCore

/// The experiment step of an `abTest` rollout: it counts the windows, records each change of verdict, concludes at
/// its end condition, and then holds the rollout for a person's choice.
extension RolloutMachine {
    /// How often a running experiment's counts are recorded (besides every change of verdict): at most this much of
    /// the experiment's traffic is lost to a controller restart.
    static let experimentCheckpointInterval = Duration.seconds(15)

    /// How long after the split is set the experiment starts counting. Routes reach the data plane over its control
    /// channel; on a busy machine that takes a moment, and a window holding traffic from before the split would make
    /// the split check see a mismatch that is not there (and, as it keeps the largest evidence seen, for good).
    static let experimentSplitSettling = Duration.seconds(1)

    /// Begins the experiment on the split in force; a restored rollout carries on from its last checkpoint.
    mutating func startExperiment(_ spec: ExperimentSpec, at now: Moment, into actions: inout [Action]) {
        var share = 0.5
        var randomSplit = true
        var perUser = false
        if case .abTest(let abTest) = plan.strategy.kind {
            share = Double(abTest.variantShare(variants: 1 + plan.challengers.count)) / 10_000
            // Sticky users are counted once each, by a first request the shares assigned at random.
            randomSplit = abTest.match.isEmpty
            perUser = abTest.stickiness != nil
        }
        let others = [plan.candidate] + plan.challengers
        let variants =
            [Experiment.Variant(name: "A", version: plan.stable.version, share: 1 - share * Double(others.count))]
            + others.enumerated().map { index, release in
                Experiment.Variant(name: Self.variantName(index + 1), version: release.version, share: share)
            }
        if let checkpoint = restoredExperiment.take(),
            let restored = Experiment(
                restoring: checkpoint,
                rolloutStartedAt: startedAt,
                spec: spec,
                app: plan.app,
                rollout: plan.number,
                variants: variants,
                notes: experimentNotes,
                randomSplit: randomSplit,
                perUser: perUser
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
            perUser: perUser,
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
        // A window that began before the experiment holds traffic from before its split, and so may one that began
        // while the data plane was still taking the new routes: the experiment counts from a settled split.
        guard var experiment, experiment.conclusion == nil,
            window.start >= experiment.startedAt + Self.experimentSplitSettling
        else { return }
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
        guard plan.challengers.isEmpty else {
            let names = variantNames.dropFirst().map { "\($0.name) (\($0.release.version))" }
            return "experiment concluded (\(conclusion.reason)): \(report.summary); promote --variant keeps one of "
                + "\(names.joined(separator: ", ")), abort keeps \(plan.stable.version)"
        }
        return "experiment concluded (\(conclusion.reason)): \(report.summary); promote keeps "
            + "\(plan.candidate.version), abort keeps \(plan.stable.version)"
    }

    // MARK: Choosing a variant

    /// `A`, `B`, `C`, … for the variant at `index` (the control is 0); `V27` and on past `Z`.
    static func variantName(_ index: Int) -> String {
        index < 26 ? String(UnicodeScalar(UInt8(65 + index))) : "V\(index + 1)"
    }

    /// An A/B test's variants by name, the control first, as its experiment named them (before the experiment step:
    /// the control, the candidate, then the other variants).
    public var variantNames: [(name: String, release: Release)] {
        let releases = [plan.stable, plan.candidate] + plan.challengers
        if let experiment {
            return experiment.variants.compactMap { variant in
                releases.first { $0.version == variant.version }.map { (variant.name, $0) }
            }
        }
        return releases.enumerated().map { (Self.variantName($0.offset), $0.element) }
    }

    /// The variant `wanted` names: its name (`C`, any case) or its version; nil when none.
    func variant(named wanted: String) -> (name: String, release: Release)? {
        variantNames.first { $0.name.lowercased() == wanted.lowercased() || $0.release.version == wanted }
    }

    /// Why a plain `promote` cannot go on: an A/B/n test whose variant nobody chose yet, at or past its experiment.
    func unchosenVariantsRefusal(full: Bool) -> String? {
        guard !plan.challengers.isEmpty, !variantChosen else { return nil }
        if !full {
            guard case .experiment = currentStep else { return nil }
        }
        let names = variantNames.dropFirst().map { "\($0.name) (\($0.release.version))" }
        return "rollout #\(plan.number) tests \(names.count) variants: name the one to keep, `promote --variant "
            + "\(variantNames.dropFirst().first?.name ?? "B")` (of \(names.joined(separator: ", "))); `abort` keeps A "
            + "(\(plan.stable.version))"
    }

    private var experimentSpec: ExperimentSpec? {
        if case .abTest(let abTest) = plan.strategy.kind { return abTest.experiment }
        return nil
    }

    /// Ends the experiment by keeping `wanted` (a variant's name or version): it becomes the candidate, the rollout
    /// goes on to promote it, and the other variants stop.
    mutating func chooseVariant(_ wanted: String, by who: String, at now: Moment) -> CommandResult {
        func refuse(_ message: String) -> CommandResult {
            CommandResult(accepted: false, message: message, actions: [])
        }
        guard plan.purpose == .deploy, let spec = experimentSpec else {
            return refuse("rollout #\(plan.number) is not an A/B test: `promote` without --variant goes on")
        }
        let listed = variantNames.map { "\($0.name) (\($0.release.version))" }.joined(separator: ", ")
        guard let (name, release) = variant(named: wanted) else {
            return refuse("rollout #\(plan.number) has no variant \"\(wanted)\"; its variants: \(listed)")
        }
        var actions: [Action] = []
        if release == plan.stable {
            return refuse("\(name) (\(release.version)) is the control: `abort` keeps it")
        }
        if variantChosen || stepIndex >= finale {
            guard release == plan.candidate else {
                return refuse("rollout #\(plan.number) already keeps \(plan.candidate.version)")
            }
            advance(at: now, into: &actions)
            return CommandResult(
                accepted: true,
                message: "rollout #\(plan.number) already keeps \(name) (\(release.version))",
                actions: actions
            )
        }
        guard currentStep == .experiment(spec) else {
            return refuse(
                "rollout #\(plan.number) chooses its variant at the experiment step; it is at step \(stepIndex + 1) "
                    + "(\(currentStep?.description ?? "finishing"))"
            )
        }
        clearUserPause(at: now)
        let previous = plan.candidate
        if release != previous {
            plan.challengers = plan.challengers.map { $0 == release ? previous : $0 }
            plan.candidate = release
            for (id, member) in members {
                if member.role == .candidate {
                    members[id]?.role = .challenger
                } else if member.role == .challenger, member.release == release {
                    members[id]?.role = .candidate
                }
            }
            // The comparison with the stable release judged the other variant.
            comparison = nil
        }
        variantChosen = true
        endExperiment("\(who) chose \(name) (\(release.version))", at: now, into: &actions)
        actions.append(
            record(
                .variantChosen,
                [
                    "variant": .string(name),
                    "version": .string(release.version),
                    "previous": .string(previous.version),
                    "others": .array(plan.challengers.map { .string($0.version) }),
                    "by": .string(who),
                ]
            )
        )
        actions.append(
            record(
                .rolloutResumed,
                ["by": .string(who), "command": .string(UserCommand.choose(variant: wanted).name)]
            )
        )
        stepDone = true
        advance(at: now, into: &actions)
        let others = plan.challengers.isEmpty ? "" : "; \(plan.challengers.map(\.version).joined(separator: ", ")) stop"
        return CommandResult(
            accepted: true,
            message: "\(name) (\(release.version)) chosen: it is promoted\(others)",
            actions: actions
        )
    }

    /// What the experiment's evidence assumes that this rollout's routing does not give.
    var experimentNotes: [String] {
        guard let routing = plan.strategy.routing else { return [] }
        var notes: [String] = []
        if routing.stickiness != nil {
            notes.append(
                "sticky traffic: judged per user, on each user's first request since the split began; a goal reached "
                    + "later in a visit (a purchase after browsing) is not seen there: measure it with a query goal"
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
