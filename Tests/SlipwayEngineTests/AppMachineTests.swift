import Foundation
import SlipwayConfig
import SlipwayCore
import Testing

@testable import SlipwayEngine

/// Plays the executor for an ``AppMachine``: started instances come up healthy, stopped ones exit, warm-ups and the
/// hooks a rollout waits for finish at once, timers fire when the clock passes them.
struct AppDriver {
    var machine: AppMachine
    var now = Moment.zero
    var actions: [AppMachine.Action] = []
    var timers: [Moment] = []
    /// Instances the executor is asked to keep down (their start is reported, never their health).
    var sickly: Set<InstanceID> = []

    static func spec(
        _ kind: StrategySpec.Kind = .canary(CanarySpec(steps: [.pause(nil)])),
        instances: Int = 2
    )
        -> AppSpec
    {
        AppSpec(
            index: 0,
            name: "shop",
            listen: HostPort(host: "127.0.0.1", port: 8080),
            instances: instances,
            version: "1.0",
            run: RunSpec(command: ["shop"]),
            strategy: StrategySpec(kind: kind, progressDeadline: .seconds(60), maxDuration: .seconds(3600))
        )
    }

    init(_ spec: AppSpec = Self.spec()) {
        machine = AppMachine(spec: spec)
    }

    init(machine: AppMachine) {
        self.machine = machine
    }

    static func id(_ number: Int) -> InstanceID { InstanceID(app: "shop", number: number) }

    /// Performs `output` the way a well-behaved platform would, feeding back what follows, and keeps every action.
    mutating func play(_ output: [AppMachine.Action]) {
        var queue = output
        var performed = 0
        while !queue.isEmpty, performed < 10_000 {
            performed += 1
            let action = queue.removeFirst()
            actions.append(action)
            switch action {
            case .start(let id, _, _, _):
                queue += machine.handle(.started(id), at: now)
                if !sickly.contains(id) { queue += machine.handle(.healthy(id), at: now) }
            case .stop(let id, _):
                queue += machine.handle(.exited(id, status: "exit 0"), at: now)
            case .warmUp(let id):
                queue += machine.handle(.warmedUp(id), at: now)
            case .runHooks(let point, let context) where point.blocksRollout:
                queue += machine.handle(.hooksFinished(point, failure: nil, rollout: context.plan.number), at: now)
            case .scheduleTimer(let moment):
                timers.append(moment)
            case .beginRollout(let plan):
                queue += machine.begin(plan, at: now)
            default:
                break
            }
        }
    }

    /// Lets `seconds` pass, one at a time, firing the timers that come due.
    mutating func wait(_ seconds: Int) {
        for _ in 0..<seconds {
            now = now + .seconds(1)
            if timers.contains(where: { $0 <= now }) {
                timers.removeAll { $0 <= now }
                play(machine.handle(.timerFired, at: now))
            }
        }
    }

    /// Answers a command; a new rollout begins at once.
    @discardableResult
    mutating func command(_ command: UserCommand) -> AppMachine.CommandAnswer {
        let answer = machine.command(command, by: "ada", at: now)
        carryOut(answer)
        return answer
    }

    @discardableResult
    mutating func deploy(_ version: String, supersede: Bool = false) -> AppMachine.CommandAnswer {
        let answer = machine.deploy(
            DeployRequest(version: version, supersede: supersede, by: "ada"),
            overriding: [],
            at: now
        )
        carryOut(answer)
        return answer
    }

    mutating func carryOut(_ answer: AppMachine.CommandAnswer) {
        switch answer {
        case .refused: break
        case .applied(_, let output): play(output)
        case .startRollout(let plan, _, let output):
            play(output)
            play(machine.begin(plan, at: now))
        }
    }

    var routes: [InstanceID] { machine.routes.instances }

    func recorded(_ kind: EventKind) -> [Event] {
        actions.compactMap { action in
            if case .record(let event) = action, event.kind == kind { return event }
            return nil
        }
    }
}

extension AppMachine.CommandAnswer {
    var refusal: AppMachine.Refusal? {
        if case .refused(let refusal) = self { return refusal }
        return nil
    }

    var plan: RolloutPlan? {
        if case .startRollout(let plan, _, _) = self { return plan }
        return nil
    }
}

@Suite struct AppMachineTests {
    typealias Driver = AppDriver
    let id = AppDriver.id

    func steady() -> AppDriver {
        var driver = AppDriver()
        driver.play(driver.machine.begin(at: driver.now))
        return driver
    }

    @Test func supervisionBringsTheAppUpAndRoutesEveryHealthyInstance() {
        let driver = steady()
        #expect(driver.routes == [id(1), id(2)])
        #expect(driver.machine.routes.groups.map(\.version) == ["1.0"])
        #expect(driver.machine.routes.groups.first?.weight == 10_000)
    }

    @Test func anInstanceLeavesTheRoutesBeforeItIsStopped() {
        var driver = steady()
        driver.actions.removeAll()
        driver.play(driver.machine.handle(.failedToStart(id(1), reason: "no answer"), at: driver.now))
        let routes = driver.actions.firstIndex {
            if case .setRoutes(let plan) = $0 { plan.instances == [id(2)] } else { false }
        }
        let stop = driver.actions.firstIndex { $0 == .stop(id(1), reason: "no answer") }
        #expect(routes != nil && stop != nil && routes! < stop!)
        // Its replacement joins the routes once healthy.
        #expect(driver.routes == [id(2), id(3)])
    }

    @Test func aRolloutTakesOverEveryInstanceInItsPhaseAndHandsBackToTheWinner() {
        var driver = steady()
        let answer = driver.deploy("2.0")
        #expect(answer.plan?.number == 1)
        let rollout = driver.machine.running
        #expect(rollout?.instances[id(1)]?.role == .stable)
        #expect(rollout?.instances[id(1)]?.phase == .ready)
        // The canary waits for promote; promote ends it.
        driver.command(.promote(full: false))
        driver.wait(5)
        #expect(driver.machine.running == nil)
        #expect(driver.machine.stable == Release(version: "2.0"))
        #expect(driver.machine.releases.map(\.version) == ["1.0", "2.0"])
        #expect(driver.machine.lastEnded?.outcome == "promoted")
        #expect(driver.actions.contains(.rolloutEnded(number: 1)))
        // Supervision goes on with the winner: its instances are the routed ones, on 2.0.
        guard case .steady(let supervisor) = driver.machine.mode else {
            Issue.record("not handed back to supervision")
            return
        }
        #expect(supervisor.policy.version == "2.0")
        #expect(supervisor.phases.values.allSatisfy { $0 == .healthy })
        #expect(driver.machine.routes.groups.map(\.version) == ["2.0"])
        #expect(Set(driver.routes) == Set(supervisor.phases.keys))
        // Numbers never repeat: the next instance continues after the rollout's.
        #expect(supervisor.nextInstanceNumber > driver.routes.compactMap(\.number).max()!)
    }

    @Test func aSupersedingDeployWaitsForTrafficBackOnStableThenBegins() {
        var driver = steady()
        driver.deploy("2.0")
        #expect(driver.deploy("3.0").refusal?.code == .conflict)
        guard case .applied(let message, _) = driver.deploy("3.0", supersede: true) else {
            Issue.record("a superseding deploy is applied")
            return
        }
        #expect(message?.contains("traffic goes back to 1.0") == true)
        driver.wait(5)
        #expect(driver.recorded(.rolloutFinished).first?.fields["outcome"] == "superseded")
        // The waiting deploy began as rollout #2, from the release that is stable again.
        #expect(driver.machine.running?.plan.number == 2)
        #expect(driver.machine.running?.plan.stable.version == "1.0")
        #expect(driver.machine.running?.plan.candidate.version == "3.0")
        #expect(driver.machine.pending == nil)
    }

    @Test func aWaitingDeployKeepsOthersOutUntilItBegins() {
        var driver = steady()
        driver.deploy("2.0")
        _ = driver.machine.deploy(DeployRequest(version: "3.0", supersede: true), overriding: [], at: driver.now)
        let refusal = driver.machine.deploy(DeployRequest(version: "4.0"), overriding: [], at: driver.now).refusal
        #expect(refusal?.message == "a deploy of 3.0 is already waiting to start")
    }

    @Test func aPreparedRolloutThatLostTheRaceIsDroppedAndRecorded() {
        var driver = steady()
        let first = driver.machine.deploy(DeployRequest(version: "2.0"), overriding: [], at: driver.now).plan!
        let second = driver.machine.deploy(DeployRequest(version: "3.0"), overriding: [], at: driver.now).plan!
        driver.play(driver.machine.begin(first, at: driver.now))
        let dropped = driver.machine.begin(second, at: driver.now)
        guard case .record(let event) = dropped.first, dropped.count == 1 else {
            Issue.record("expected one refusal, got \(dropped)")
            return
        }
        #expect(event.kind == .commandRefused)
        #expect(driver.machine.running?.plan.candidate.version == "2.0")
    }

    @Test func retryStartsAnEndedRolloutAgainUnderANewNumber() {
        var driver = steady()
        #expect(driver.command(.retry).refusal?.message == "shop has had no rollout to retry")
        driver.deploy("2.0")
        driver.command(.abort)
        driver.wait(5)
        #expect(driver.machine.lastEnded?.outcome == "aborted")
        // Abort again is already in effect; promote is not.
        guard case .applied(let again, _) = driver.command(.abort) else {
            Issue.record("a repeated abort is accepted")
            return
        }
        #expect(again == "rollout #1 already ended: aborted")
        let refusedPromote = driver.command(.promote(full: false)).refusal
        #expect(refusedPromote?.event?.kind == .commandRefused)
        let retry = driver.machine.command(.retry, by: "grace", at: driver.now)
        #expect(retry.plan?.number == 2)
        #expect(retry.plan?.candidate.version == "2.0")
        #expect(retry.plan?.reason == "retry of rollout #1")
        #expect(retry.plan?.by == "grace")
    }

    @Test func rollbackGoesToTheReleaseBeforeAndRefusesWhenThereIsNone() {
        var driver = steady()
        let none = driver.command(.rollback(to: nil)).refusal
        #expect(none?.message == "shop has no earlier release than 1.0 to go back to")
        #expect(driver.command(.rollback(to: "0.9")).refusal?.code == .notFound)
        driver.deploy("2.0")
        driver.command(.promote(full: true))
        driver.wait(5)
        #expect(driver.machine.stable.version == "2.0")
        #expect(driver.command(.retry).refusal?.message == "rollout #1 was promoted; there is nothing to retry")
        let rollback = driver.machine.command(.rollback(to: nil), by: "ada", at: driver.now)
        #expect(rollback.plan?.purpose == .rollback)
        #expect(rollback.plan?.candidate.version == "1.0")
    }

    @Test func aDeployOfTheStableReleaseOrABadRequestIsRefused() {
        var driver = steady()
        #expect(driver.deploy("1.0").refusal?.message.contains("already the stable release") == true)
        #expect(driver.deploy("-bad").refusal?.code == .badRequest)
        let strategy = driver.machine.validate(DeployRequest(version: "2.0", strategy: "big-bang"))
        #expect(strategy?.message.hasPrefix("strategy: \"big-bang\" is not a strategy") == true)
        let env = driver.machine.validate(DeployRequest(version: "2.0", env: ["1X": "y"]))
        #expect(env?.message == "env: \"1X\" is not an environment variable name")
    }

    @Test func forcedRulesAreRecordedWithTheRolloutTheyLetThrough() {
        var driver = steady()
        let answer = driver.machine.deploy(
            DeployRequest(version: "2.0", force: true, by: "ada", reason: "hotfix"),
            overriding: [AppMachine.Override(policy: "deployWindow", detail: "no deploys on Friday evening")],
            at: driver.now
        )
        guard case .startRollout(let plan, _, let actions) = answer, case .record(let event) = actions.first else {
            Issue.record("expected a forced start")
            return
        }
        #expect(event.kind == .deployForced)
        #expect(event.fields["rollout"] == .int(plan.number))
        #expect(event.fields["overridden"] == .array(["deployWindow"]))
    }

    @Test func lateAnswersOfAnEndedRolloutChangeNothing() {
        var driver = steady()
        driver.deploy("2.0")
        driver.command(.abort)
        driver.wait(5)
        let window = MetricsWindow(start: driver.now, end: driver.now, versions: [:])
        #expect(driver.machine.handle(.warmedUp(id(9)), at: driver.now) == [])
        #expect(driver.machine.handle(.metrics(window, preview: nil), at: driver.now) == [])
        #expect(driver.machine.handle(.hooksFinished(.prePromotion, failure: nil, rollout: 1), at: driver.now) == [])
        // An exit nobody expects any more (an instance the machine forgot) is ignored too.
        #expect(driver.machine.handle(.exited(id(99), status: "exit 0"), at: driver.now) == [])
    }

    // MARK: Recovery

    func recovered(roles: [(Int, String, String?)], unfinished: Bool) -> RecoveredState {
        var events: [RecordedEvent] = []
        var sequence: Int64 = 0
        func add(_ kind: EventKind, _ instance: String? = nil, _ fields: [String: JSONValue]) {
            sequence += 1
            events.append(
                RecordedEvent(
                    id: sequence,
                    time: Date(timeIntervalSince1970: Double(sequence)),
                    event: Event(app: "shop", kind: kind, instance: instance.map { InstanceID($0) }, fields: fields)
                )
            )
        }
        add(.rolloutStarted, nil, ["rollout": 3, "from": "1.0", "to": "2.0", "strategy": "canary", "by": "ada"])
        for (number, version, role) in roles {
            var fields: [String: JSONValue] = [
                "version": .string(version), "pid": .int(100 + number), "port": .int(9000 + number),
            ]
            if let role {
                fields["role"] = .string(role)
                fields["rollout"] = 3
            }
            add(.instanceStarted, "shop-\(number)", fields)
        }
        if !unfinished { add(.rolloutFinished, nil, ["rollout": 3, "outcome": "rolledBack", "reason": "fail-fast"]) }
        return RecoveredState.fold(events)
    }

    @Test func recoveryGivesEachSurvivorItsRoleAndCarriesTheRolloutOn() {
        let state = recovered(
            roles: [(1, "1.0", nil), (2, "1.0", "stable"), (3, "2.0", nil), (4, "2.0", "candidate")],
            unfinished: true
        )
        var machine = AppMachine(
            spec: AppDriver.spec(),
            stable: state.stable,
            releases: state.releases,
            lastNumber: state.lastNumber,
            firstInstanceNumber: 5
        )
        let plan = machine.plan(restoring: state.unfinished!)
        #expect(plan?.number == 3)
        let actions = machine.recover(
            state,
            adopted: [id(1), id(2), id(3), id(4)],
            resuming: plan,
            elapsed: .seconds(30),
            at: .zero
        )
        let rollout = machine.running
        #expect(rollout?.instances[id(1)]?.role == .stable)
        #expect(rollout?.instances[id(2)]?.role == .stable)
        #expect(rollout?.instances[id(3)]?.role == .candidate)
        #expect(rollout?.instances[id(4)]?.role == .candidate)
        // Every survivor counts as just started: it is probed before it takes traffic again.
        // (the candidates, which the paused canary does not need yet, are stopped).
        #expect(rollout?.instances[id(1)]?.phase == .starting)
        #expect(rollout?.instances[id(2)]?.phase == .starting)
        #expect(rollout?.instances.values.contains { $0.phase == .ready } == false)
        #expect(actions.contains { if case .record(let event) = $0 { event.kind == .rolloutResumed } else { false } })
        #expect(machine.lastNumber == 3)
    }

    @Test func recoveryBetweenRolloutsKeepsTheStableCountAndStopsTheRest() {
        let state = recovered(
            roles: [(1, "1.0", nil), (2, "1.0", nil), (3, "1.0", nil), (4, "2.0", "candidate")],
            unfinished: false
        )
        #expect(state.stable?.version == "1.0")
        var driver = AppDriver(
            machine: AppMachine(
                spec: AppDriver.spec(),
                stable: state.stable,
                releases: state.releases,
                lastNumber: 3,
                firstInstanceNumber: 5
            )
        )
        let actions = driver.machine.recover(
            state,
            adopted: [id(1), id(2), id(3), id(4)],
            resuming: nil,
            elapsed: .zero,
            at: .zero
        )
        let stopped = actions.compactMap { if case .stop(let id, _) = $0 { id } else { nil } }
        #expect(stopped == [id(3), id(4)])
        #expect(!actions.contains { if case .start = $0 { true } else { false } })
        // The last rollout is remembered for `retry`, never run again.
        #expect(driver.machine.lastEnded?.plan.number == 3)
        #expect(driver.machine.lastEnded?.outcome == "rolledBack")
        #expect(driver.machine.running == nil)
        driver.play(actions)
        driver.play(driver.machine.handle(.healthy(id(1)), at: .zero))
        driver.play(driver.machine.handle(.healthy(id(2)), at: .zero))
        #expect(driver.routes == [id(1), id(2)])
    }

    @Test func theReleaseOfASurvivorFollowsItsRollout() {
        let state = recovered(
            roles: [(1, "1.0", "stable"), (2, "2.0", "candidate"), (3, "1.0", nil)],
            unfinished: true
        )
        #expect(state.release(of: state.alive[id(1)]!).version == "1.0")
        #expect(state.release(of: state.alive[id(2)]!).version == "2.0")
        #expect(state.release(of: state.alive[id(3)]!).version == "1.0")
    }
}
