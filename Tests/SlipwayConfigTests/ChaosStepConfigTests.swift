import SlipwayConfig
import Testing

@Suite("Chaos steps")
struct ChaosStepConfigTests {
    @Test func aChaosStepWithEveryKeyOnADependency() throws {
        let yaml = """
            apps:
              - name: web
                listen: 127.0.0.1:8080
                instances: 2
                version: "1.0.0"
                run: {command: [web, "{port}"]}
                strategy:
                  canary:
                    steps:
                      - weight: 50
                      - chaos:
                          app: api
                          fault:
                            kind: delay
                            delay: 300ms
                            jitter: 20ms
                            share: 50%
                            path: /items
                            method: GET
                            header: {name: X-Test, value: "1"}
                          before: 30s
                          duration: 1m
                          tolerance: {errors: 2%, latency: 40ms}
              - name: api
                listen: 127.0.0.1:8081
                instances: 1
                version: "1.0.0"
                run: {command: [api, "{port}"]}
            """
        let app = try ConfigFixtures.parse(yaml).apps[0]
        guard case .canary(let canary) = app.strategy.kind, case .chaos(let chaos) = canary.steps.last else {
            Issue.record("expected a canary ending with a chaos step, got \(app.strategy.kind)")
            return
        }
        #expect(chaos.target == "api")
        #expect(
            chaos.fault
                == ChaosStepSpec.Fault(
                    kind: .delay,
                    delay: .milliseconds(300),
                    jitter: .milliseconds(20),
                    share: Percentage(basisPoints: 5_000),
                    pathPrefix: "/items",
                    method: "GET",
                    header: ChaosStepSpec.Header(name: "X-Test", value: "1")
                )
        )
        #expect(chaos.before == .seconds(30))
        #expect(chaos.duration == .seconds(60))
        #expect(
            chaos.tolerance == ChaosStepSpec.Tolerance(errors: Percentage(basisPoints: 200), latency: .milliseconds(40))
        )
        #expect(chaos.fault.description == "delay 300ms (+ up to 20ms) on 50% of GET requests to /items with X-Test: 1")
    }

    @Test func theDefaultsFaultTheAppItselfAndAnAbortAnswers503() throws {
        let app = try ConfigFixtures.app(
            "strategy: {canary: {steps: [{weight: 20}, {chaos: {fault: {kind: abort, share: 10%}}}]}}"
        )
        guard case .canary(let canary) = app.strategy.kind, case .chaos(let chaos) = canary.steps.last else {
            Issue.record("expected a chaos step, got \(app.strategy.kind)")
            return
        }
        #expect(chaos.target == nil)
        #expect(chaos.fault == ChaosStepSpec.Fault(kind: .abort, status: 503, share: Percentage(basisPoints: 1_000)))
        #expect(chaos.before == .seconds(60))
        #expect(chaos.duration == .seconds(120))
        #expect(chaos.tolerance == ChaosStepSpec.Tolerance())
    }

    @Test func badFaultsAreReportedWithTheirPaths() {
        let problems = ConfigFixtures.appProblems(
            """
            strategy:
              canary:
                steps:
                  - weight: 10
                  - chaos: {fault: {kind: delay, status: 500, share: 0}}
                  - chaos: {fault: {kind: slow}}
                  - chaos: {fault: {kind: delay, delay: 2m, method: get}, duration: 0s, tolerance: {errors: lots}}
                  - chaos: {app: nowhere, fault: {kind: bandwidth}}
            """
        )
        #expect(
            problems == [
                "slipway.yaml:12:28: apps[0].strategy.canary.steps[1].chaos.fault: missing required key `delay`",
                "slipway.yaml:12:42: apps[0].strategy.canary.steps[1].chaos.fault.status: `status` applies to a fault "
                    + "of kind abort, not delay",
                "slipway.yaml:12:62: apps[0].strategy.canary.steps[1].chaos.fault.share: expected a share greater "
                    + "than 0, like 10%, 50% or 100%, got 0",
                "slipway.yaml:13:35: apps[0].strategy.canary.steps[2].chaos.fault.kind: expected one of abort, delay, "
                    + "reset, bandwidth, got \"slow\"",
                "slipway.yaml:14:49: apps[0].strategy.canary.steps[3].chaos.fault.delay: expected a duration from "
                    + "1ms to 1m, got \"2m\"",
                "slipway.yaml:14:61: apps[0].strategy.canary.steps[3].chaos.fault.method: expected an upper-case "
                    + "method like GET, got \"get\"",
                "slipway.yaml:14:77: apps[0].strategy.canary.steps[3].chaos.duration: expected a duration greater "
                    + "than 0, got \"0s\"",
                "slipway.yaml:14:101: apps[0].strategy.canary.steps[3].chaos.tolerance.errors: expected a weight from "
                    + "0 to 100 with at most two decimals, like 10, 12.5 or 25%, got \"lots\"",
                "slipway.yaml:15:26: apps[0].strategy.canary.steps[4].chaos.app: no app is named `nowhere` (the apps "
                    + "are `shop`)",
                "slipway.yaml:15:42: apps[0].strategy.canary.steps[4].chaos.fault: missing required key "
                    + "`bytesPerSecond`",
            ]
        )
    }

    @Test func aChaosStepNeedsBothVersionsTakingUsers() {
        #expect(
            ConfigFixtures.appProblems(
                "strategy: {canary: {steps: [{chaos: {fault: {kind: reset}}}, {weight: 100}, {chaos: {fault: {kind: reset}}}]}}"
            ) == [
                "slipway.yaml:8:41: apps[0].strategy.canary.steps[0].chaos: a chaos step compares the candidate's "
                    + "users with the stable version's: put a weight above 0 before it",
                "slipway.yaml:8:89: apps[0].strategy.canary.steps[2].chaos: a chaos step compares the candidate's "
                    + "users with the stable version's: it needs a weight below 100 in force, not 100",
            ]
        )
    }
}
