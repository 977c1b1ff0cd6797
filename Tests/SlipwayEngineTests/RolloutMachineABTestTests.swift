import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

@Suite struct RolloutMachineABTestTests {
    typealias H = RolloutHarness

    static func abTest(stopOnDecision: Bool = true, stickiness: StickinessSpec? = nil) -> ABTestSpec {
        ABTestSpec(
            weight: percent(50),
            stickiness: stickiness,
            experiment: ExperimentSpec(
                goals: [ExperimentGoal(metric: .outcome("converted"))],
                stopOnDecision: stopOnDecision
            )
        )
    }

    /// A machine whose experiment has begun and whose split has settled: windows from now on count.
    func started(_ spec: ABTestSpec = abTest(), instances: Int = 2) -> H {
        var harness = H(H.plan(.abTest(spec), instances: instances))
        harness.feed(.begin)
        harness.settle()
        harness.advance(RolloutMachine.experimentSplitSettling)
        return harness
    }

    @Test func windowsFromBeforeTheSplitSettledAreNotCounted() throws {
        var harness = H(H.plan(.abTest(Self.abTest()), instances: 2))
        harness.feed(.begin)
        harness.settle()
        // The data plane may still be taking the new routes: this window would show a split that is not there.
        harness.advance(.milliseconds(500))
        _ = harness.conversionWindow(requests: 200, converted: ["1.0.0": 20, "2.0.0": 40])
        #expect(harness.machine.experiment?.report(at: harness.now).goals.first?.variants.map(\.units) == [0, 0])
        Self.window(&harness, a: 20, b: 40)
        #expect(harness.machine.experiment?.report(at: harness.now).goals.first?.variants.map(\.units) == [200, 200])
    }

    /// A window where A and B each got `requests`, of which `a` and `b` converted.
    @discardableResult
    static func window(_ harness: inout H, requests: Int = 200, a: Int, b: Int) -> [RolloutMachine.Action] {
        harness.conversionWindow(requests: requests, converted: ["1.0.0": a, "2.0.0": b])
    }

    @Test func theSplitIsHeldWhileTheExperimentRuns() throws {
        let harness = started()
        #expect(
            harness.machine.steps.prefix(3) == [
                .scaleCandidate(1), .weight(5_000), .experiment(Self.abTest().experiment),
            ]
        )
        #expect(harness.candidateWeight == 5_000)
        let event = try #require(harness.last(.experimentStarted))
        #expect(event.fields["goals"] == .array(["converted"]))
        guard case .array(let variants)? = event.fields["variants"] else {
            Issue.record("no variants in \(event.fields)")
            return
        }
        #expect(variants.count == 2)
        #expect(harness.machine.waitingFor?.hasPrefix("experiment running") == true)
    }

    @Test func aDecidedExperimentWaitsForAPersonAndPromoteKeepsB() throws {
        var harness = started()
        var windows = 0
        while harness.last(.experimentConcluded) == nil, windows < 100 {
            Self.window(&harness, a: 20, b: 40)
            windows += 1
        }
        let concluded = try #require(harness.last(.experimentConcluded))
        #expect(concluded.fields["verdict"] == "better")
        #expect(concluded.fields["reason"] == "the primary goal `converted` is decided")
        let report = try #require(concluded.fields["report"].flatMap(ExperimentReport.init(json:)))
        #expect(report.goals[0].comparisons[0].verdict == .better)
        #expect(report.awaitingChoice)
        #expect(try #require(report.goals[0].comparisons[0].lower) > 0)
        #expect(harness.kinds.contains(.experimentUpdated))
        // Concluded is not promoted: the rollout holds, whatever the clock says, until someone chooses.
        harness.advance(.seconds(3_000))
        harness.feed(.timerFired)
        #expect(harness.machine.currentStep == .experiment(Self.abTest().experiment))
        #expect(harness.machine.waitingFor?.contains("promote keeps 2.0.0, abort keeps 1.0.0") == true)
        #expect(harness.command(.promote(full: false)).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        // The conclusion is recorded once.
        #expect(harness.kinds.filter { $0 == .experimentConcluded }.count == 1)
    }

    @Test func abortKeepsTheControlAndConcludesARunningExperiment() throws {
        var harness = started()
        Self.window(&harness, a: 20, b: 21)
        #expect(harness.command(.abort).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .aborted)
        #expect(harness.candidateWeight == 0)
        let concluded = try #require(harness.last(.experimentConcluded))
        #expect(concluded.fields["reason"] == "aborted by ada")
        #expect(concluded.fields["verdict"] == "inconclusive")
        #expect(concluded.fields["report"].flatMap(ExperimentReport.init(json:))?.awaitingChoice == false)
    }

    @Test func promoteFullConcludesTheExperimentWithoutWaitingForAChoice() throws {
        var harness = started()
        Self.window(&harness, a: 20, b: 21)
        #expect(harness.command(.promote(full: true)).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        let concluded = try #require(harness.last(.experimentConcluded))
        #expect(concluded.fields["reason"] == "ada promoted 2.0.0")
        #expect(concluded.fields["report"].flatMap(ExperimentReport.init(json:))?.awaitingChoice == false)
        #expect(harness.kinds.filter { $0 == .experimentConcluded }.count == 1)
    }

    @Test func aQueryGoalIsAskedAboutEveryVariantWhileTheExperimentRuns() {
        let spec = ABTestSpec(
            experiment: ExperimentSpec(
                goals: [ExperimentGoal(metric: .query("sum(orders{v=\"{version}\"})"), queryName: "orders")],
                duration: .seconds(30)
            )
        )
        var harness = started(spec)
        #expect(
            harness.machine.queries == [
                QueryRequest("sum(orders{v=\"{version}\"})", version: "1.0.0"),
                QueryRequest("sum(orders{v=\"{version}\"})", version: "2.0.0"),
            ]
        )
        for _ in 0..<4 { Self.window(&harness, a: 20, b: 20) }
        // Concluded (its duration): nothing more to ask.
        #expect(harness.last(.experimentConcluded) != nil)
        #expect(harness.machine.queries.isEmpty)
    }

    @Test func anExperimentThatRunsOnAfterItsVerdictDoesNotConcludeByItself() {
        var harness = started(Self.abTest(stopOnDecision: false))
        for _ in 0..<60 { Self.window(&harness, a: 20, b: 40) }
        #expect(harness.last(.experimentConcluded) == nil)
        #expect(harness.machine.experiment?.report(at: harness.now).primaryVerdict == .better)
    }

    @Test func stickyTrafficIsJudgedPerUserAndSaysSo() throws {
        var harness = started(Self.abTest(stopOnDecision: false, stickiness: .header("X-User-Id")))
        #expect(harness.machine.routes.stickiness == .header("X-User-Id"))
        // Each window: 200 requests a variant from 40 users, whose first requests converted 4 and 12 times.
        for _ in 0..<30 {
            let start = harness.now
            harness.advance(.seconds(10))
            func version(_ converted: Int) -> VersionWindow {
                let value = Double(converted)
                var window = VersionWindow(
                    requests: 200,
                    errors: 0,
                    outcomes: ["converted": OutcomeTally(responses: 60, sum: 60, sumOfSquares: 60)]
                )
                window.units = ComparisonUnits(
                    units: 40,
                    bad: 0,
                    outcomes: ["converted": OutcomeTally(responses: converted, sum: value, sumOfSquares: value)],
                    latency: OutcomeTally(responses: 40, sum: 800, sumOfSquares: 16_000)
                )
                return window
            }
            let window = MetricsWindow(
                start: start,
                end: harness.now,
                versions: ["1.0.0": version(4), "2.0.0": version(12)]
            )
            harness.feed(.metrics(window, preview: nil))
        }
        let report = try #require(harness.machine.experiment?.report(at: harness.now))
        #expect(report.unit == "user")
        let goal = try #require(report.goals.first)
        // Users, not requests: 40 a window; A converts 10% of them and B 30%, not the requests' 30% each.
        #expect(goal.variants.map(\.units) == [1_200, 1_200])
        #expect(goal.variants.map(\.mean) == [0.1, 0.3])
        #expect(goal.comparisons.first?.verdict == .better)
        // Users' first requests are assigned at random: the split is checked.
        #expect(report.split.pValue != nil)
        #expect(report.split.summary.hasPrefix("as configured"))
        #expect(report.assumptions.contains { $0.hasPrefix("a unit is a user") })
        #expect(report.assumptions.contains { $0.hasPrefix("sticky traffic: judged per user") })
    }

    @Test func stickyTrafficWithoutUserCountsFallsBackToRequestsAndSaysSo() throws {
        var harness = started(Self.abTest(stickiness: .header("X-User-Id")))
        Self.window(&harness, a: 20, b: 30)
        let report = try #require(harness.machine.experiment?.report(at: harness.now))
        #expect(report.goals.first?.variants.map(\.units) == [200, 200])
        #expect(report.split.pValue == nil)
        #expect(report.split.summary.hasPrefix("not checked"))
        #expect(report.assumptions.contains { $0.hasPrefix("some windows counted requests, not users") })
    }

    /// The machine a restarted controller builds at the experiment step, from `checkpoint`.
    static func restored(_ spec: ABTestSpec = abTest(), checkpoint: JSONValue?, at now: Moment) -> H {
        var harness = H(
            machine: RolloutMachine(
                restoring: H.plan(.abTest(spec), instances: 2),
                step: 2,
                pausedByUser: false,
                rollback: nil,
                alive: [H.id(1): .stable, H.id(2): .stable, H.id(3): .candidate],
                firstInstanceNumber: 4,
                startedAt: .zero,
                experiment: checkpoint.flatMap(Experiment.Checkpoint.init(json:))
            )
        )
        harness.now = now
        harness.feed(.begin)
        for number in 1...3 {
            harness.feed(.started(H.id(number)))
            harness.feed(.healthy(H.id(number)))
        }
        return harness
    }

    @Test func theCountsAreRecordedEveryFifteenSecondsAndARestartCarriesThemOn() throws {
        var harness = started(Self.abTest(stopOnDecision: false))
        // 10 s windows: a checkpoint every other window at the most.
        for _ in 0..<6 { Self.window(&harness, a: 20, b: 22) }
        let checkpoints = harness.kinds.filter { $0 == .experimentCheckpoint }.count
        #expect(checkpoints >= 2 && checkpoints <= 3, "\(harness.kinds)")
        let last = try #require(harness.last(.experimentCheckpoint))
        let before = try #require(harness.machine.experiment)
        #expect(Experiment.Checkpoint(json: try #require(last.fields["checkpoint"])) != nil)

        var restored = Self.restored(
            Self.abTest(stopOnDecision: false),
            checkpoint: last.fields["checkpoint"],
            at: harness.now + .seconds(30)
        )
        let experiment = try #require(restored.machine.experiment)
        // Everything up to the checkpoint is there; the windows after it are the ones counted again.
        #expect(experiment.sums[0][0].count == 200 * 6 || experiment.sums[0][0].count == 200 * 5)
        #expect(experiment.startedAt == before.startedAt)
        #expect(experiment.split.counts.reduce(0, +) == experiment.sums[0][0].count * 2)
        #expect(!restored.kinds.contains(.experimentStarted))
        #expect(restored.last(.experimentCheckpoint)?.fields["restored"] == true)
        Self.window(&restored, a: 20, b: 22)
        #expect(try #require(restored.machine.experiment).sums[0][1].count == experiment.sums[0][1].count + 200)
    }

    @Test func aConcludedExperimentStaysConcludedAcrossARestart() throws {
        var harness = started()
        var windows = 0
        while harness.last(.experimentConcluded) == nil, windows < 100 {
            Self.window(&harness, a: 20, b: 40)
            windows += 1
        }
        let concluded = try #require(harness.last(.experimentConcluded))
        var restored = Self.restored(checkpoint: concluded.fields["checkpoint"], at: harness.now + .seconds(60))
        let report = try #require(restored.machine.experiment?.report(at: restored.now))
        #expect(report.state == "concluded")
        #expect(report.awaitingChoice)
        #expect(report.primaryVerdict == .better)
        #expect(restored.machine.waitingFor?.contains("promote keeps 2.0.0, abort keeps 1.0.0") == true)
        Self.window(&restored, a: 20, b: 40)
        #expect(!restored.kinds.contains(.experimentConcluded))
        #expect(restored.command(.promote(full: false)).accepted)
        restored.settle()
        #expect(restored.machine.outcome == .promoted)
    }

    @Test func aCheckpointOfOtherGoalsOrSharesIsNotTakenUp() throws {
        var harness = started(Self.abTest(stopOnDecision: false))
        for _ in 0..<3 { Self.window(&harness, a: 20, b: 22) }
        let checkpoint = try #require(harness.last(.experimentCheckpoint)?.fields["checkpoint"])
        // The periodic checkpoint leaves the history out.
        #expect(Experiment.Checkpoint(json: checkpoint)?.history == nil)
        var otherGoals = Self.abTest(stopOnDecision: false)
        otherGoals.experiment.goals = [ExperimentGoal(metric: .success)]
        var otherShare = Self.abTest(stopOnDecision: false)
        otherShare.weight = percent(20)
        for spec in [otherGoals, otherShare] {
            let restored = Self.restored(spec, checkpoint: checkpoint, at: harness.now + .seconds(10))
            #expect(restored.kinds.contains(.experimentStarted))
            #expect(restored.machine.experiment?.split.counts.reduce(0, +) == 0)
        }
    }

    @Test func withoutACheckpointARestoredExperimentStartsAgain() {
        let restored = Self.restored(checkpoint: nil, at: Moment(.seconds(100)))
        #expect(restored.kinds.contains(.experimentStarted))
        #expect(restored.machine.experiment?.sums[0][0].count == 0)
    }
}
