import AnalysisSimulation
import Foundation
import SlipwayConfig
import SlipwayEngine

// Simulated rollouts through the engine's own analysis code: false rollbacks of a candidate identical to its baseline,
// and how fast real regressions are found, for the baseline comparison and for today's threshold checks, side by side.

let arguments = CommandLine.arguments.dropFirst()
let runs = arguments.first.flatMap { Int($0) } ?? 200
let alpha = 0.01
let steady = [Scenario.Stage(weight: 0.10, windows: 600)]
let stepped = [
    Scenario.Stage(weight: 0.05, windows: 150), Scenario.Stage(weight: 0.10, windows: 150),
    Scenario.Stage(weight: 0.25, windows: 150), Scenario.Stage(weight: 0.50, windows: 150),
]
let incident = Scenario.Incident(firstWindow: 200, windows: 60, errorRate: 0.10)
let scenarios: [Scenario] = [
    Scenario(name: "A/A, 10% weight, 1% errors, 120k requests", ratio: 1, stages: steady),
    Scenario(
        name: "A/A, weights 5→10→25→50%, incident on both (10% errors, 60 s)",
        ratio: 1,
        stages: stepped,
        incident: incident
    ),
    Scenario(name: "1.5× errors (1% → 1.5%), 10% weight", ratio: 1.5, stages: steady),
    Scenario(name: "2× errors (1% → 2%), 10% weight", ratio: 2, stages: steady),
    Scenario(name: "5× errors (1% → 5%), 10% weight", ratio: 5, stages: steady),
]
let thresholds = AnalysisSpec()
let thresholdChecks = thresholds.failFast + thresholds.checks

func cell(_ tally: Tally, identical: Bool) -> String {
    let share = String(format: "%.1f%%", tally.rate * 100)
    if identical { return "\(share) false rollbacks" }
    return "\(share) found, median \(tally.median.map(String.init) ?? "–") candidate requests"
}

print("analysis harness: \(runs) runs per scenario, 200 requests/s, 1 s windows, α = \(Int(alpha * 100))%")
print("compare = `analysis.compare: [errorRate]` (no increase allowed); thresholds = the default checks")
print("(\(thresholdChecks.map(\.text).joined(separator: ", ")), judged every 2 s window with 20 requests or more)")
print("")
print("| scenario | compare: errorRate | thresholds |")
print("|---|---|---|")
var results: [String: (compare: Tally, threshold: Tally)] = [:]
for scenario in scenarios {
    let compare = Tally.of(scenario, runs: runs) { ComparisonJudge(alpha: alpha) }
    let threshold = Tally.of(scenario, runs: runs) { ThresholdJudge(checks: thresholdChecks) }
    results[scenario.name] = (compare, threshold)
    let identical = scenario.ratio == 1
    print("| \(scenario.name) | \(cell(compare, identical: identical)) | \(cell(threshold, identical: identical)) |")
}
// The tail: requests slower than the stable version's p99 (frozen from its first 200 requests), at 10% weight.
let latencyScenarios = [
    Scenario(name: "latency, A/A (log-normal, median 20 ms), 10% weight", ratio: 1, stages: steady, latency: .init()),
    Scenario(name: "latency +20% (log-normal), 10% weight", ratio: 1, stages: steady, latency: .init(factor: 1.2)),
    Scenario(
        name: "2% of candidate requests +200 ms, 10% weight",
        ratio: 1,
        stages: steady,
        latency: .init(tailShare: 0.02, extra: 0.2)
    ),
]
// The same tail against a given limit (`slowerThan: 200ms`): the baseline almost never crosses it.
let tailScenario = latencyScenarios[2]
let latencyRuns = max(1, runs / 4)
var latencyResults: [Tally] = []
for scenario in latencyScenarios {
    let compare = Tally.of(scenario, runs: latencyRuns) { ComparisonJudge(alpha: alpha, metric: .latency) }
    let threshold = Tally.of(scenario, runs: latencyRuns) {
        ThresholdJudge(checks: [
            AnalysisCheck(metric: .p99, comparison: .lessThanOrEqual, threshold: 0.1, text: "p99 <= 100ms")
        ])
    }
    latencyResults.append(compare)
    let identical = scenario.latency?.factor == 1 && scenario.latency?.tailShare == 0
    print(
        "| \(scenario.name) (compare: latency; threshold p99 <= 100ms; \(latencyRuns) runs) | "
            + "\(cell(compare, identical: identical)) | \(cell(threshold, identical: identical)) |"
    )
}
// The whole distribution, by the sequential Kolmogorov–Smirnov test.
var distributionResults: [Tally] = []
for scenario in latencyScenarios {
    let tally = Tally.of(scenario, runs: latencyRuns) { ComparisonJudge(alpha: alpha, metric: .latencyDistribution) }
    distributionResults.append(tally)
    let identical = scenario.latency?.factor == 1 && scenario.latency?.tailShare == 0
    print(
        "| \(scenario.name) (compare: latencyDistribution; \(latencyRuns) runs) | "
            + "\(cell(tally, identical: identical)) | – |"
    )
}
let given = Tally.of(tailScenario, runs: latencyRuns) {
    ComparisonJudge(alpha: alpha, check: ComparisonCheck(metric: .latency, slowerThan: .milliseconds(200)))
}
print(
    "| \(tailScenario.name) (compare: latency, slowerThan: 200ms; \(latencyRuns) runs) | \(cell(given, identical: false)) | – |"
)
print("")

// The targets, met or not, in the same run.
let aa = results[scenarios[0].name]!.compare.rate
let aaIncident = results[scenarios[1].name]!.compare.rate
let double = results[scenarios[3].name]!.compare
let fivefold = results[scenarios[4].name]!.compare
func line(_ met: Bool, _ text: String) { print("\(met ? "met" : "NOT MET"): \(text)") }
line(
    max(aa, aaIncident) <= 0.01,
    String(
        format: "A/A false rollbacks ≤ 1%% at α = 1%% (%.1f%%, %.1f%% with the incident)",
        aa * 100,
        aaIncident * 100
    )
)
line(double.rate >= 0.95, String(format: "2× detected in ≥ 95%% of runs (%.1f%%)", double.rate * 100))
// The bound: a test told the true ratio in advance (Wald's SPRT), on the same streams.
let oracleDouble = Tally.of(scenarios[3], runs: runs) { OracleJudge(ratio: 2, alpha: alpha) }
let oracleFivefold = Tally.of(scenarios[4], runs: runs) { OracleJudge(ratio: 5, alpha: alpha) }
line(
    (double.median ?? .max) <= 1_300,
    "2× median ≤ 1,300 candidate requests (\(double.median.map(String.init) ?? "none"); a test told the true "
        + "ratio in advance needs \(oracleDouble.median.map(String.init) ?? "none"))"
)
line(
    (fivefold.median ?? .max) <= 150,
    "5× median ≤ 150 candidate requests (\(fivefold.median.map(String.init) ?? "none"); a test told the true "
        + "ratio in advance needs \(oracleFivefold.median.map(String.init) ?? "none"))"
)
line(
    latencyResults[0].rate <= 0.01,
    String(format: "latency A/A false rollbacks ≤ 1%% (%.1f%%)", latencyResults[0].rate * 100)
)
line(
    latencyResults[2].rate >= 0.95,
    "2% slow tail (+200 ms) found in ≥ 95% of runs against the stable p99 "
        + String(format: "(%.1f%%, median ", latencyResults[2].rate * 100)
        + "\(latencyResults[2].median.map(String.init) ?? "none") candidate requests)"
)
line(
    distributionResults[0].rate <= 0.01,
    String(format: "latency distribution A/A false rollbacks ≤ 1%% (%.1f%%)", distributionResults[0].rate * 100)
)
line(
    distributionResults[1].rate >= 0.95,
    "latency +20% found by the distribution test in ≥ 95% of runs "
        + String(format: "(%.1f%%, median ", distributionResults[1].rate * 100)
        + "\(distributionResults[1].median.map(String.init) ?? "none") candidate requests)"
)

// The notes' figures are at α = 5%: the same error-rate scenarios at that level, for comparison.
print("")
print("at α = 5% (the level of the figures in the statistics notes):")
var atFive: [Int: Tally] = [:]
for index in [0, 1, 3, 4] {
    let scenario = scenarios[index]
    let tally = Tally.of(scenario, runs: runs) { ComparisonJudge(alpha: 0.05) }
    atFive[index] = tally
    let oracle =
        scenario.ratio == 1
        ? ""
        : " (told the true ratio: median "
            + "\(Tally.of(scenario, runs: runs) { OracleJudge(ratio: scenario.ratio, alpha: 0.05) }.median.map(String.init) ?? "–"))"
    print("| \(scenario.name) | \(cell(tally, identical: scenario.ratio == 1))\(oracle) |")
}
line(
    (atFive[3]?.median ?? .max) <= 1_300 && (atFive[4]?.median ?? .max) <= 150,
    "at α = 5%, 2× median ≤ 1,300 and 5× median ≤ 150 candidate requests "
        + "(\(atFive[3]?.median.map(String.init) ?? "none"), \(atFive[4]?.median.map(String.init) ?? "none"))"
)

// A/B experiments: conversions of two variants split 50/50, judged by the engine's `Experiment` at its default level
// (α = 5%, minimum effect 5% of A), stopping at the first decision.
print("")
let experimentRuns = max(1, runs)
let experimentSpec = ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))])
let experiments = [
    ExperimentScenario(name: "A/A, 10% conversion", rateA: 0.10, rateB: 0.10, windows: 600, spec: experimentSpec),
    ExperimentScenario(
        name: "A/A, 10% conversion, minimum effect 10%",
        rateA: 0.10,
        rateB: 0.10,
        windows: 600,
        spec: ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))], minimumEffect: 0.10)
    ),
    ExperimentScenario(name: "B +10% (10% → 11%)", rateA: 0.10, rateB: 0.11, windows: 600, spec: experimentSpec),
    ExperimentScenario(name: "B +20% (10% → 12%)", rateA: 0.10, rateB: 0.12, windows: 600, spec: experimentSpec),
    ExperimentScenario(name: "B −20% (10% → 8%)", rateA: 0.10, rateB: 0.08, windows: 600, spec: experimentSpec),
]
print(
    "A/B experiments: \(experimentRuns) runs per scenario, 200 requests per window split 50/50, at most 120k "
        + "requests, α = 5%, minimum effect 5% of A"
)
print("")
print("| scenario | B better | B worse | no meaningful difference | inconclusive | median B requests to the verdict |")
print("|---|---|---|---|---|---|")
var aaWrong = 0.0
for (index, scenario) in experiments.enumerated() {
    var counts: [ExperimentReport.Verdict: Int] = [:]
    var concluded: [Int] = []
    for run in 0..<experimentRuns {
        let outcome = scenario.run(seed: UInt64(9_000 + run))
        counts[outcome.verdict, default: 0] += 1
        if let after = outcome.concludedAfter { concluded.append(after) }
    }
    func share(_ verdict: ExperimentReport.Verdict) -> String {
        String(format: "%.1f%%", Double(counts[verdict] ?? 0) / Double(experimentRuns) * 100)
    }
    concluded.sort()
    let median = concluded.isEmpty ? "–" : String(concluded[concluded.count / 2])
    print(
        "| \(scenario.name) | \(share(.better)) | \(share(.worse)) | \(share(.noMeaningfulDifference)) | "
            + "\(share(.inconclusive)) | \(median) |"
    )
    if index <= 1 {
        aaWrong = max(aaWrong, Double((counts[.better] ?? 0) + (counts[.worse] ?? 0)) / Double(experimentRuns))
    }
}
print("")
line(aaWrong <= 0.05, String(format: "A/A experiments called better or worse ≤ 5%% at α = 5%% (%.1f%%)", aaWrong * 100))

// A/B/n: three variants, each compared with A at α/2, so that any false call stays within α.
print("")
print("A/B/n experiments: \(experimentRuns) runs per scenario, 300 requests per window split equally in three")
print("")
print("| scenario | any variant called better or worse wrongly | C found better | median B requests to the verdict |")
print("|---|---|---|---|")
let thirds = [0.3334, 0.3333, 0.3333]
let multiple = [
    ExperimentScenario(
        name: "A/A/A, 10% conversion",
        rates: [0.10, 0.10, 0.10],
        shares: thirds,
        requestsPerWindow: 300,
        windows: 600,
        spec: experimentSpec
    ),
    ExperimentScenario(
        name: "A/A/C, C +20% (10% → 12%)",
        rates: [0.10, 0.10, 0.12],
        shares: thirds,
        requestsPerWindow: 300,
        windows: 600,
        spec: experimentSpec
    ),
]
var aaaWrong = 0.0
for (index, scenario) in multiple.enumerated() {
    var wrong = 0
    var found = 0
    var concluded: [Int] = []
    for run in 0..<experimentRuns {
        let outcome = scenario.run(seed: UInt64(19_000 + run))
        // B is identical to A in both; C is too in the first.
        let identical = index == 0 ? outcome.verdicts : Array(outcome.verdicts.prefix(1))
        if identical.contains(where: { $0 == .better || $0 == .worse }) { wrong += 1 }
        if index == 1, outcome.verdicts.last == .better { found += 1 }
        if let after = outcome.concludedAfter { concluded.append(after) }
    }
    concluded.sort()
    let wrongShare = Double(wrong) / Double(experimentRuns)
    if index == 0 { aaaWrong = wrongShare }
    print(
        "| \(scenario.name) | \(String(format: "%.1f%%", wrongShare * 100)) | "
            + "\(index == 1 ? String(format: "%.1f%%", Double(found) / Double(experimentRuns) * 100) : "–") | "
            + "\(concluded.isEmpty ? "–" : String(concluded[concluded.count / 2])) |"
    )
}
print("")
line(
    aaaWrong <= 0.05,
    String(
        format: "A/A/A experiments with any variant called better or worse ≤ 5%% at α = 5%% (%.1f%%)",
        aaaWrong * 100
    )
)
