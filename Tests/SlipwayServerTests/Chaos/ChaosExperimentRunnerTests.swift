import Foundation
import SlipwayConfig
import SlipwayCore
import Synchronization
import Testing

@testable import SlipwayServer

/// The experiment runner's order and rules with a scripted driver: no network, no processes.
@Suite struct ChaosExperimentRunnerTests {
    /// Answers each provider from a script, records what ran.
    final class ScriptedDriver: ChaosExperimentDriver {
        let ran = Mutex<[String]>([])
        let errorRates = Mutex<[Double]>([])
        let homeStatus = Mutex<Int>(200)
        let onRun: @Sendable (String) -> Void

        init(onRun: @escaping @Sendable (String) -> Void = { _ in }) {
            self.onRun = onRun
        }

        func run(_ provider: ChaosExperimentSpec.Provider) async throws -> JSONValue {
            let name: String
            switch provider {
            case .http: name = "http"
            case .process: name = "process"
            case .slipway(let function): name = function.name
            }
            ran.withLock { $0.append(name) }
            onRun(name)
            switch provider {
            case .http: return .object(["status": .int(homeStatus.withLock { $0 }), "body": "home"])
            case .slipway(.errorRate): return .double(0.001)
            default: return .object(["ok": true])
            }
        }

        func errorRate(app: String, window: Duration) async throws -> Double {
            errorRates.withLock { $0.isEmpty ? 0 : $0.removeFirst() }
        }

        func removeAddedFaults() async throws -> JSONValue {
            ran.withLock { $0.append("remove-added-faults") }
            return .object(["removed": .array([])])
        }
    }

    static let spec = try! ChaosExperimentLoader.parse(
        """
        title: freeze
        steady-state-hypothesis:
          title: answers
          probes:
            - {type: probe, name: home, tolerance: [200, 204], provider: {type: http, url: "http://127.0.0.1:1/"}}
            - type: probe
              name: errors
              tolerance: {type: range, range: [0, 0.01]}
              provider: {type: slipway, func: error-rate, arguments: {app: shop}}
        method:
          - {type: action, name: fault, provider: {type: slipway, func: add-fault, arguments: {app: shop, fault: {kind: reset}}}}
          - {type: action, name: hang, provider: {type: slipway, func: hang-instance, arguments: {app: shop, duration: 1s}}, pauses: {after: 0.5}}
        rollbacks:
          - {type: action, name: undo, provider: {type: slipway, func: remove-faults}}
        safeguard: {app: shop, maxErrorRate: 5%}
        """,
        file: "exp.yaml"
    )

    @Test func aHeldHypothesisCompletesAndTheRollbacksAndCleanupRun() async {
        let driver = ScriptedDriver()
        let journal = await ChaosExperimentRunner(spec: Self.spec, driver: driver, isInterrupted: { false }).run()
        #expect(journal.status == .completed && !journal.deviated && journal.exitCode == 0)
        #expect(
            driver.ran.withLock { $0 }
                == [
                    "http", "error-rate", "add-fault", "hang-instance", "http", "error-rate", "remove-faults",
                    "remove-added-faults",
                ]
        )
        #expect(journal.steadyStates.before?.met == true && journal.steadyStates.after?.met == true)
        #expect(journal.run.count == 2 && journal.rollbacks.count == 2)
        #expect(journal.run.allSatisfy { $0.status == "succeeded" })
    }

    @Test func aProbeOutsideItsToleranceAfterTheMethodIsADeviationNamingIt() async {
        let driver = ScriptedDriver { name in _ = name }
        let spec = Self.spec
        let runner = ChaosExperimentRunner(spec: spec, driver: driver, isInterrupted: { false })
        // The home page answers 503 once the method has begun.
        let journal = await runner.run { phase, _ in
            if phase == "method" { driver.homeStatus.withLock { $0 = 503 } }
        }
        #expect(journal.status == .completed && journal.deviated && journal.exitCode == 1)
        #expect(journal.deviation == #"probe "home" after the method"#)
        #expect(journal.steadyStates.after?.probes.first?.toleranceMet == false)
        #expect(driver.ran.withLock { $0.suffix(2) } == ["remove-faults", "remove-added-faults"])
    }

    @Test func aHypothesisFailingBeforeTheMethodRunsNothingButTheRollbacks() async {
        let driver = ScriptedDriver()
        driver.homeStatus.withLock { $0 = 500 }
        let journal = await ChaosExperimentRunner(spec: Self.spec, driver: driver, isInterrupted: { false }).run()
        #expect(journal.status == .failed && journal.exitCode == 2)
        #expect(journal.run.isEmpty)
        #expect(driver.ran.withLock { $0 } == ["http", "error-rate", "remove-faults", "remove-added-faults"])
    }

    @Test func anInterruptionStopsTheMethodAndStillRunsTheRollbacks() async {
        let stop = Atomic<Bool>(false)
        let driver = ScriptedDriver { name in if name == "hang-instance" { stop.store(true, ordering: .relaxed) } }
        let journal = await ChaosExperimentRunner(
            spec: Self.spec,
            driver: driver,
            isInterrupted: { stop.load(ordering: .relaxed) },
            tick: .milliseconds(10)
        ).run()
        #expect(journal.status == .interrupted && journal.exitCode == 3)
        #expect(journal.steadyStates.after == nil)
        #expect(driver.ran.withLock { $0.suffix(2) } == ["remove-faults", "remove-added-faults"])
    }

    @Test func theSafeguardAbortsWhenTheErrorRatePassesItsBound() async {
        let driver = ScriptedDriver()
        // Fine before the first action, past 5% before the second.
        driver.errorRates.withLock { $0 = [0.0, 0.2] }
        let journal = await ChaosExperimentRunner(spec: Self.spec, driver: driver, isInterrupted: { false }).run()
        #expect(journal.status == .aborted && journal.exitCode == 2)
        #expect(journal.reason == "the safeguard: shop's error rate 20.00% passed 5.00%")
        #expect(
            driver.ran.withLock { $0 } == ["http", "error-rate", "add-fault", "remove-faults", "remove-added-faults"]
        )
    }
}
