import Foundation
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// A/B/n tests: a deploy's further versions run beside the candidate as variants C, D, …; a person keeps one of them.
@Suite struct RolloutMachineABnTests {
    typealias H = RolloutHarness

    static let spec = ABTestSpec(
        experiment: ExperimentSpec(goals: [ExperimentGoal(metric: .outcome("converted"))])
    )

    static func plan(_ spec: ABTestSpec = Self.spec, instances: Int = 3) -> RolloutPlan {
        var plan = H.plan(.abTest(spec), instances: instances)
        plan.challengers = [Release(version: "2.1.0")]
        return plan
    }

    func started(_ spec: ABTestSpec = Self.spec) -> H {
        var harness = H(Self.plan(spec))
        harness.feed(.begin)
        harness.settle()
        return harness
    }

    /// A window where A, B and C each got `requests`, of which `a`, `b` and `c` converted.
    static func window(_ harness: inout H, requests: Int = 200, a: Int, b: Int, c: Int) {
        harness.conversionWindow(requests: requests, converted: ["1.0.0": a, "2.0.0": b, "2.1.0": c])
    }

    /// Runs windows where B converts half as often as A, and C twice as often, until the experiment concludes (once
    /// every variant has its verdict against A).
    static func concluded(_ harness: inout H) throws -> ExperimentReport {
        var windows = 0
        while harness.last(.experimentConcluded) == nil, windows < 200 {
            window(&harness, a: 20, b: 10, c: 40)
            windows += 1
        }
        let concluded = try #require(harness.last(.experimentConcluded))
        return try #require(concluded.fields["report"].flatMap(ExperimentReport.init(json:)))
    }

    func weights(_ harness: H) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: harness.machine.routes.groups.map { ($0.version, $0.weight) })
    }

    @Test func everyVariantRunsAndTakesAnEqualShare() throws {
        let harness = started()
        let experiment = Self.spec.experiment
        #expect(
            harness.machine.steps == [
                .scaleCandidate(1), .scaleChallengers(1), .weight(3_333), .experiment(experiment),
                .scaleChallengers(0), .scaleCandidate(3), .weight(10_000), .promoted, .scaleStable(0),
            ]
        )
        #expect(weights(harness) == ["1.0.0": 3_334, "2.0.0": 3_333, "2.1.0": 3_333])
        let versions = harness.machine.instances.values.map(\.version).sorted()
        #expect(versions == ["1.0.0", "1.0.0", "1.0.0", "2.0.0", "2.1.0"])
        #expect(harness.machine.instances.values.filter { $0.role == .challenger }.map(\.version) == ["2.1.0"])
        let started = try #require(harness.last(.rolloutStarted))
        #expect(started.fields["variants"] == .array(["2.1.0"]))
        let experimentStarted = try #require(harness.last(.experimentStarted))
        guard case .array(let variants)? = experimentStarted.fields["variants"] else {
            Issue.record("no variants in \(experimentStarted.fields)")
            return
        }
        let names = variants.map { variant -> JSONValue? in
            if case .object(let fields) = variant { return fields["name"] }
            return nil
        }
        #expect(names == [.string("A"), .string("B"), .string("C")])
        #expect(harness.machine.variantNames.map(\.name) == ["A", "B", "C"])
    }

    @Test func aGivenWeightIsEachVariantsShare() {
        var spec = Self.spec
        spec.weight = Percentage(basisPoints: 1_000)
        let harness = started(spec)
        #expect(weights(harness) == ["1.0.0": 8_000, "2.0.0": 1_000, "2.1.0": 1_000])
    }

    @Test func eachVariantIsComparedWithTheControlAndTheWinnerMustBeNamed() throws {
        var harness = started()
        let report = try Self.concluded(&harness)
        #expect(report.goals[0].comparisons.map(\.verdict) == [.worse, .better])
        #expect(report.awaitingChoice)
        #expect(harness.machine.waitingFor?.contains("promote --variant keeps one of B (2.0.0), C (2.1.0)") == true)
        // `promote` alone would keep B by accident: it must name the variant.
        let plain = harness.command(.promote(full: false))
        #expect(!plain.accepted)
        #expect(plain.message.contains("promote --variant B"))
        #expect(!harness.command(.promote(full: true)).accepted)
        #expect(harness.command(.choose(variant: "A")).message == "A (1.0.0) is the control: `abort` keeps it")
        #expect(harness.command(.choose(variant: "D")).message.contains("has no variant \"D\""))

        let chosen = harness.command(.choose(variant: "c"))
        #expect(chosen.accepted, "\(chosen.message)")
        #expect(chosen.message == "C (2.1.0) chosen: it is promoted; 2.0.0 stop")
        let event = try #require(harness.last(.variantChosen))
        #expect(event.fields["version"] == "2.1.0")
        #expect(event.fields["previous"] == "2.0.0")
        #expect(event.fields["others"] == .array(["2.0.0"]))
        #expect(harness.machine.plan.candidate.version == "2.1.0")
        // B leaves the routes and stops before C takes everything.
        #expect(harness.machine.routes.groups.contains { $0.version == "2.0.0" } == false)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.machine.winner.version == "2.1.0")
        let finished = try #require(harness.last(.rolloutFinished))
        #expect(finished.fields["stable"] == "2.1.0")
        #expect(finished.fields["to"] == "2.1.0")
        #expect(harness.machine.instances.values.allSatisfy { $0.version == "2.1.0" })
        #expect(harness.machine.instances.count == 3)
        // Asking again is answered, not refused.
        #expect(harness.command(.choose(variant: "2.1.0")).accepted)
    }

    @Test func keepingBStopsTheOthers() throws {
        var harness = started()
        Self.window(&harness, a: 20, b: 21, c: 20)
        let chosen = harness.command(.choose(variant: "2.0.0"))
        #expect(chosen.accepted)
        harness.settle()
        #expect(harness.machine.outcome == .promoted)
        #expect(harness.machine.instances.values.allSatisfy { $0.version == "2.0.0" })
        let concluded = try #require(harness.last(.experimentConcluded))
        #expect(concluded.fields["reason"] == "ada chose B (2.0.0)")
    }

    @Test func aVariantIsChosenOnlyAtTheExperimentStep() {
        var harness = H(Self.plan())
        harness.feed(.begin)
        // The instances are not up yet: the rollout is at its first step.
        let early = harness.command(.choose(variant: "C"))
        #expect(!early.accepted)
        #expect(early.message.contains("chooses its variant at the experiment step"))
        var canary = H(H.plan(.canary(CanarySpec(steps: [.pause(nil)]))))
        canary.feed(.begin)
        #expect(canary.command(.choose(variant: "B")).message.contains("is not an A/B test"))
    }

    @Test func aFailingVariantRollsEverythingBack() throws {
        var harness = started()
        let variant = try #require(harness.machine.instances.first { $0.value.role == .challenger }?.key)
        harness.feed(.exited(variant, status: "signal 9"))
        harness.settle()
        #expect(harness.machine.outcome == .rolledBack)
        #expect(
            harness.last(.rolloutRollingBack)?.fields["reason"]?.stringValue?.hasPrefix("variant 2.1.0 instance")
                == true
        )
        #expect(harness.machine.instances.values.allSatisfy { $0.version == "1.0.0" })
        #expect(weights(harness) == ["1.0.0": 10_000])
    }

    @Test func abortStopsEveryVariant() {
        var harness = started()
        #expect(harness.command(.abort).accepted)
        harness.settle()
        #expect(harness.machine.outcome == .aborted)
        #expect(harness.machine.instances.values.allSatisfy { $0.version == "1.0.0" })
    }

    @Test func aRestoredRolloutKnowsItsVariants() {
        var harness = H(
            machine: RolloutMachine(
                restoring: Self.plan(),
                step: 3,
                pausedByUser: false,
                rollback: nil,
                alive: [
                    H.id(1): .stable, H.id(2): .stable, H.id(3): .stable, H.id(4): .candidate, H.id(5): .challenger,
                ],
                challengerVersions: [H.id(5): "2.1.0"],
                firstInstanceNumber: 6,
                startedAt: .zero
            )
        )
        harness.feed(.begin)
        for number in 1...5 {
            harness.feed(.started(H.id(number)))
            harness.feed(.healthy(H.id(number)))
        }
        // Nothing is started again: every variant has its instance.
        #expect(!harness.actions.contains { if case .start = $0 { true } else { false } })
        #expect(weights(harness) == ["1.0.0": 3_334, "2.0.0": 3_333, "2.1.0": 3_333])
    }

    @Test func theLogRemembersTheChoice() {
        var events: [RecordedEvent] = []
        func add(_ kind: EventKind, _ fields: [String: JSONValue]) {
            let id = Int64(events.count + 1)
            events.append(
                RecordedEvent(
                    id: id,
                    time: Date(timeIntervalSince1970: Double(id)),
                    event: Event(app: "shop", kind: kind, fields: fields)
                )
            )
        }
        add(
            .rolloutStarted,
            [
                "rollout": 4, "from": "1.0.0", "to": "2.0.0", "strategy": "abTest", "by": "ada",
                "variants": .array(["2.1.0", "2.2.0"]), "env": .object(["FLAG": "b"]),
                "variantEnv": .object(["2.1.0": .object(["FLAG": "c"])]),
            ]
        )
        let started = RolloutRecord.fold(events)[0]
        #expect(started.variants == ["2.1.0", "2.2.0"])
        #expect(started.chosenVariant == nil)
        add(
            .variantChosen,
            [
                "rollout": 4, "variant": "C", "version": "2.1.0", "previous": "2.0.0",
                "others": .array(["2.0.0", "2.2.0"]),
            ]
        )
        let chosen = RolloutRecord.fold(events)[0]
        #expect(chosen.to == "2.1.0")
        #expect(chosen.variants == ["2.0.0", "2.2.0"])
        #expect(chosen.chosenVariant == "2.1.0")
        // The settings follow the choice.
        #expect(chosen.toRelease == Release(version: "2.1.0", env: ["FLAG": "c"]))
        #expect(chosen.variantRelease("2.0.0") == Release(version: "2.0.0", env: ["FLAG": "b"]))
        #expect(chosen.variantRelease("2.2.0") == Release(version: "2.2.0"))
        #expect(chosen.lastDecision == "a user chose C (2.1.0)")
    }

    @Test func aDeployOfVariantsIsCheckedBeforeAnythingStarts() {
        func refusal(_ kind: StrategySpec.Kind, _ variants: [String]) -> String? {
            let machine = AppMachine(spec: AppDriver.spec(kind))
            return machine.validate(DeployRequest(version: "2.0", variants: variants.map { Release(version: $0) }))?
                .message
        }
        func code(_ kind: StrategySpec.Kind, _ variants: [String], strategy: String? = nil) -> String? {
            let machine = AppMachine(spec: AppDriver.spec(kind))
            let request = DeployRequest(
                version: "2.0",
                variants: variants.map { Release(version: $0) },
                strategy: strategy
            )
            return machine.validate(request)?.code.rawValue
        }
        // What the request alone gets wrong is a bad request; what it gets wrong against the app is a conflict.
        #expect(code(.canary(CanarySpec(steps: [])), ["2.1"], strategy: "canary") == "badRequest")
        #expect(code(.canary(CanarySpec(steps: [])), ["2.1"]) == "conflict")
        #expect(code(.abTest(Self.spec), ["2.0"]) == "conflict")
        #expect(code(.abTest(Self.spec), ["not a version"]) == "badRequest")
        #expect(refusal(.abTest(Self.spec), ["2.1", "2.2"]) == nil)
        #expect(refusal(.canary(CanarySpec(steps: [])), ["2.1"])?.contains("only an abTest strategy") == true)
        #expect(
            refusal(.abTest(Self.spec), ["2.0"])?.hasPrefix(
                "variants[0].version: 2.0 is named twice; every variant is another version"
            ) == true
        )
        #expect(
            refusal(.abTest(Self.spec), ["not a version"]) == "variants[0].version: \"not a version\" is not a version"
        )
        var wide = Self.spec
        wide.weight = Percentage(basisPoints: 5_000)
        #expect(refusal(.abTest(wide), ["2.1"])?.contains("leave nothing to the control") == true)
        var matched = Self.spec
        matched.match = [MatchSpec(condition: .headerEquals(name: "X-Beta", value: "1"))]
        #expect(refusal(.abTest(matched), ["2.1"])?.contains("match rules") == true)

        var driver = AppDriver(AppDriver.spec(.abTest(Self.spec), instances: 2))
        driver.wait(5)
        let answer = driver.machine.deploy(
            DeployRequest(version: "2.0", variants: [Release(version: "1.0")]),
            overriding: [],
            at: driver.now
        )
        #expect(answer.refusal?.message.contains("1.0 is the stable release of shop, the control A") == true)
        let request = DeployRequest(
            version: "2.0",
            variants: [Release(version: "2.1", env: ["FLAG": "on"])],
            env: ["FLAG": "off", "LIMIT": "3"]
        )
        let plan = driver.machine.deploy(request, overriding: [], at: driver.now).plan
        // A variant's own settings go over the deploy's.
        #expect(plan?.challengers == [Release(version: "2.1", env: ["FLAG": "on", "LIMIT": "3"])])
    }
}
