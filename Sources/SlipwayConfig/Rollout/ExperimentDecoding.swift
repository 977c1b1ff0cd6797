import SlipwayCore
import Yams

/// `strategy.abTest`: the split, the goals and when the experiment ends.
extension ConfigDecoder {
    /// `strategy.abTest`; `appInstances` is the app's instance count, nil when it was rejected.
    func abTest(_ entry: Entry, appInstances: Int?) -> ABTestSpec {
        var spec = ABTestSpec()
        guard let fields = optionalFields(entry, schema: .abTest) else { return spec }
        if let entry = fields["weight"], let value = weight(entry) {
            if value.basisPoints > 0, value.basisPoints < 10_000 {
                spec.weight = value
            } else {
                reportExpected("a share per variant above 0 and below 100, like 50 or 10%", entry)
            }
        }
        if let value = fields["instances"].flatMap({ candidateInstances($0, appInstances: appInstances) }) {
            spec.instances = value
        }
        if let value = fields["match"].flatMap(matchRules) {
            spec.match = value
        }
        spec.stickiness = fields["stickiness"].flatMap(stickiness)
        if let value = fields["goals"].flatMap(experimentGoals) {
            spec.experiment.goals = value
        }
        if let entry = fields["alpha"],
            let value = percent(entry, in: 1...2_000, expectation: "a level like 1% or 5% (above 0%, at most 20%)")
        {
            spec.experiment.alpha = value
        }
        if let value = fields["minimumEffect"].flatMap(minimumEffect) {
            spec.experiment.minimumEffect = value
        }
        spec.experiment.duration = fields["duration"].flatMap { duration($0, positive: true) }
        spec.experiment.sampleSize = fields["sampleSize"].flatMap { integer($0, in: 100...100_000_000) }
        if let value = fields["stopOnDecision"].flatMap(boolean) {
            spec.experiment.stopOnDecision = value
        }
        return spec
    }

    /// `minimumEffect: 5%`: a relative change above 0%, at most 1000%.
    private func minimumEffect(_ entry: Entry) -> Double? {
        percent(entry, in: 1...100_000, expectation: "a relative change like 2% or 10% (above 0%, at most 1000%)")
    }

    /// `abTest.goals`: a non-empty list of goals with distinct names.
    private func experimentGoals(_ entry: Entry) -> [ExperimentGoal]? {
        let expectation = "a list of goals like [{outcome: converted}, success, latency]"
        guard case .sequence(let sequence) = entry.value else {
            reportExpected(expectation, entry, hint: entry.value.scalarText.map { "write it as a list: [\($0)]" })
            return nil
        }
        guard !sequence.isEmpty else {
            reportExpected("at least one goal", entry)
            return nil
        }
        var goals: [ExperimentGoal] = []
        var valid = true
        for (index, element) in sequence.enumerated() {
            let element = Entry.element(element, at: KeyPath.element(entry.path, index))
            guard let goal = experimentGoal(element) else {
                valid = false
                continue
            }
            if goals.contains(where: { $0.name == goal.name }) {
                report(element.value.location, element.path, "goal `\(goal.name)` is listed twice")
                valid = false
                continue
            }
            goals.append(goal)
        }
        return valid ? goals : nil
    }

    /// One goal: `success`, `latency`, `{outcome: converted}` or `{metric: latency, better: lower, minimumEffect: 10%}`.
    private func experimentGoal(_ entry: Entry) -> ExperimentGoal? {
        guard case .mapping = entry.value else {
            return goalMetric(entry).map { ExperimentGoal(metric: $0) }
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .experimentGoal),
            let kind = exactlyOne(
                of: ["outcome", "metric", "query"],
                in: fields,
                advice: "write each goal as its own entry"
            )
        else { return nil }
        var queryName: String?
        if let entry = fields["name"] {
            guard kind.name == "query" else {
                report(
                    entry.key.location,
                    entry.path,
                    "`name` is only for `query` goals; the others are named by what they measure"
                )
                return nil
            }
            queryName = string(entry, matching: { !$0.isEmpty }, expectation: "a name for the report, like orders")
        }
        let metric: ExperimentGoal.Metric?
        if kind.name == "query" {
            metric = string(
                kind,
                matching: { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
                expectation: "a PromQL query"
            ).flatMap { query in
                let problems = Placeholders.query.problems(in: query)
                for problem in problems { report(kind.value.location, kind.path, problem) }
                guard problems.isEmpty else { return nil }
                if queryName == nil, fields["name"] == nil {
                    report(fields.location, fields.path, "a `query` goal needs a `name` for the report, like orders")
                    return nil
                }
                queryChecks.append((kind.value.location, kind.path))
                return .query(query)
            }
        } else if kind.name == "outcome" {
            metric = string(kind, matching: { OutcomeTally.isName($0) }, expectation: "an outcome name like converted")
                .flatMap { name in
                    // A goal is named by its outcome in reports, beside the proxy's own `success` and `latency`.
                    guard name != "success", name != "latency" else {
                        report(
                            kind.value.location,
                            kind.path,
                            "`\(name)` is the name of a goal the proxy measures itself; write it as `\(name)`, or "
                                + "give the app's outcome another name"
                        )
                        return nil
                    }
                    return .outcome(name)
                }
        } else {
            metric = goalMetric(kind)
        }
        var better: ExperimentGoal.Direction?
        if let entry = fields["better"] {
            guard let text = entry.value.scalarText, let direction = ExperimentGoal.Direction(rawValue: text) else {
                reportExpected("`higher` or `lower`", entry)
                return nil
            }
            better = direction
        }
        var effect: Double?
        if let entry = fields["minimumEffect"] {
            guard let value = minimumEffect(entry) else { return nil }
            effect = value
        }
        guard fields["name"] == nil || queryName != nil else { return nil }
        return metric.map { ExperimentGoal(metric: $0, better: better, minimumEffect: effect, queryName: queryName) }
    }

    /// `success` or `latency`.
    private func goalMetric(_ entry: Entry) -> ExperimentGoal.Metric? {
        switch entry.value.scalarText {
        case "success": return .success
        case "latency": return .latency
        default:
            reportExpected(
                "`success`, `latency` or a mapping like {outcome: converted}",
                entry,
                hint: entry.value.scalarText.map { "an outcome the app reports is written {outcome: \($0)}" }
            )
            return nil
        }
    }
}
