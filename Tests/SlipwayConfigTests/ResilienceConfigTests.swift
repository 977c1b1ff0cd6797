import SlipwayConfig
import Testing

@Suite("Proxy resilience settings: outlier detection and retries")
struct ResilienceConfigTests {
    @Test func everyKeyIsRead() throws {
        let app = try ConfigFixtures.app(
            """
            proxy:
              outlierDetection:
                consecutiveFailures: 3
                interval: 500ms
                baseEjectionTime: 2s
                maxEjectionTime: 1m
                maxEjectedPercent: 34%
                successRate: {minimumRequests: 50, drop: 20%}
                probe: {path: /ready, timeout: 250ms}
              retries:
                attempts: 1
                on: [connect-failure, timeout, 5xx]
                budget: 10%
                minimumPerSecond: 2
                perTryTimeout: 300ms
            """
        )
        #expect(
            app.proxy.outlierDetection
                == OutlierDetectionSpec(
                    consecutiveFailures: 3,
                    interval: .milliseconds(500),
                    baseEjectionTime: .seconds(2),
                    maxEjectionTime: .seconds(60),
                    maxEjectedPercent: 34,
                    successRateMinimumRequests: 50,
                    successRateDropPercent: 20,
                    probePath: "/ready",
                    probeTimeout: .milliseconds(250)
                )
        )
        #expect(
            app.proxy.retries
                == RetrySpec(
                    attempts: 1,
                    on: ["connect-failure", "timeout", "5xx"],
                    budgetPercent: 10,
                    minimumPerSecond: 2,
                    perTryTimeout: .milliseconds(300)
                )
        )
    }

    @Test func onByDefaultAndOffWhenSaid() throws {
        #expect(try ConfigFixtures.app("").proxy.outlierDetection == OutlierDetectionSpec())
        #expect(try ConfigFixtures.app("").proxy.retries == RetrySpec())
        let off = try ConfigFixtures.app(
            """
            proxy:
              outlierDetection: false
            """
        )
        #expect(off.proxy.outlierDetection == nil)
        let noRates = try ConfigFixtures.app(
            """
            proxy:
              outlierDetection:
                successRate: false
            """
        )
        #expect(noRates.proxy.outlierDetection?.successRateMinimumRequests == nil)
        #expect(noRates.proxy.outlierDetection?.consecutiveFailures == 5)
    }

    @Test func badValuesSayWhereAndWhatWasExpected() {
        let problems = ConfigFixtures.appProblems(
            """
            proxy:
              outlierDetection:
                consecutiveFailures: -1
                interval: 10ms
                baseEjectionTime: 30s
                maxEjectionTime: 10s
                maxEjectedPercent: 0.5
                probe: {path: ready}
                ejectAfter: 3
              retries:
                attempts: 9
                on: [reset, gateway-errors, reset]
                budget: 120%
            """
        )
        #expect(
            problems == [
                "slipway.yaml:10:30: apps[0].proxy.outlierDetection.consecutiveFailures: expected an integer from 0 to "
                    + "1000, got -1",
                "slipway.yaml:11:19: apps[0].proxy.outlierDetection.interval: expected a duration from 100ms to 1m, got "
                    + "\"10ms\"",
                "slipway.yaml:13:26: apps[0].proxy.outlierDetection.maxEjectionTime: maxEjectionTime 10s must not be "
                    + "shorter than baseEjectionTime 30s",
                "slipway.yaml:14:28: apps[0].proxy.outlierDetection.maxEjectedPercent: expected a whole percentage from "
                    + "1% to 100%, like 20%, got 0.5",
                "slipway.yaml:15:23: apps[0].proxy.outlierDetection.probe.path: expected a path starting with / without "
                    + "spaces, got \"ready\"",
                "slipway.yaml:16:9: apps[0].proxy.outlierDetection.ejectAfter: unknown key `ejectAfter`; expected one "
                    + "of `consecutiveFailures`, `interval`, `baseEjectionTime`, `maxEjectionTime`, `maxEjectedPercent`, "
                    + "`successRate`, `probe`",
                "slipway.yaml:18:19: apps[0].proxy.retries.attempts: expected an integer from 0 to 5, got 9",
                "slipway.yaml:19:21: apps[0].proxy.retries.on[1]: expected one of connect-failure, reset, timeout, "
                    + "gateway-error, 5xx, got \"gateway-errors\"",
                "slipway.yaml:19:37: apps[0].proxy.retries.on[2]: `reset` is listed twice",
                "slipway.yaml:20:17: apps[0].proxy.retries.budget: expected a whole percentage from 0% to 100%, like "
                    + "20%, got \"120%\"",
            ]
        )
    }

    @Test func aWaitingRoomNeedsOneLimit() throws {
        let app = try ConfigFixtures.app(
            """
            proxy:
              waitingRoom:
                maxInFlightPerInstance: 8
                queue: 50
                queueTimeout: 3s
                waitingPage: false
                pageRefresh: 5s
            """
        )
        #expect(
            app.proxy.waitingRoom
                == WaitingRoomSpec(
                    limit: .perInstance(8),
                    queue: 50,
                    queueTimeout: .seconds(3),
                    waitingPage: false,
                    pageRefresh: .seconds(5)
                )
        )
        #expect(try ConfigFixtures.app("").proxy.waitingRoom == nil)
        let total = try ConfigFixtures.app("proxy: {waitingRoom: {maxInFlight: 100}}")
        #expect(total.proxy.waitingRoom == WaitingRoomSpec(limit: .total(100)))

        #expect(
            ConfigFixtures.appProblems("proxy: {waitingRoom: {queue: 10}}") == [
                "slipway.yaml:8:26: apps[0].proxy.waitingRoom: missing required key `maxInFlight` or "
                    + "`maxInFlightPerInstance`"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: {waitingRoom: {maxInFlight: 5, maxInFlightPerInstance: 2}}") == [
                "slipway.yaml:8:67: apps[0].proxy.waitingRoom.maxInFlightPerInstance: give maxInFlight or "
                    + "maxInFlightPerInstance, not both"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: {waitingRoom: {maxInFlight: 0, pageRefresh: 100ms}}") == [
                "slipway.yaml:8:40: apps[0].proxy.waitingRoom.maxInFlight: expected an integer from 1 to 1000000, got 0",
                "slipway.yaml:8:56: apps[0].proxy.waitingRoom.pageRefresh: expected a duration from 1s to 1m, got "
                    + "\"100ms\"",
            ]
        )
    }
}
