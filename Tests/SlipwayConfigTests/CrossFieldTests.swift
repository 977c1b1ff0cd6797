import SlipwayConfig
import Testing

@Suite("Checks across fields and apps")
struct CrossFieldTests {
    @Test func timeoutLongerThanInterval() {
        #expect(
            ConfigFixtures.appProblems("health:\n  interval: 1s\n  timeout: 2s") == [
                "slipway.yaml:10:16: apps[0].health.timeout: timeout 2s must not be longer than interval 1s"
            ]
        )
        // With only the interval written, the default timeout is the one that no longer fits.
        #expect(
            ConfigFixtures.appProblems("health:\n  interval: 250ms") == [
                "slipway.yaml:9:17: apps[0].health.interval: timeout 500ms must not be longer than interval 250ms"
            ]
        )
        // A rejected interval is not compared with the timeout.
        #expect(
            ConfigFixtures.appProblems("health:\n  interval: soon\n  timeout: 2s") == [
                "slipway.yaml:9:17: apps[0].health.interval: expected a duration like 250ms, 2s or 1m30s, got \"soon\""
            ]
        )
    }

    @Test func maxBackoffBelowInitialBackoff() {
        #expect(
            ConfigFixtures.appProblems("restart: { initialBackoff: 5s, maxBackoff: 2s }") == [
                "slipway.yaml:8:48: apps[0].restart.maxBackoff: maxBackoff 2s must be at least initialBackoff 5s"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("restart: { initialBackoff: 1m }") == [
                "slipway.yaml:8:32: apps[0].restart.initialBackoff: maxBackoff 30s must be at least initialBackoff 1m"
            ]
        )
    }

    @Test func requestLineLargerThanHeaders() {
        #expect(
            ConfigFixtures.appProblems("proxy: { maxHeaderBytes: 4KiB, maxRequestLineBytes: 6KiB }") == [
                "slipway.yaml:8:57: apps[0].proxy.maxRequestLineBytes: maxRequestLineBytes 6KiB must not be larger "
                    + "than maxHeaderBytes 4KiB"
            ]
        )
        // With only maxHeaderBytes written, the default request line limit is the one that no longer fits.
        #expect(
            ConfigFixtures.appProblems("proxy: { maxHeaderBytes: 4KiB }") == [
                "slipway.yaml:8:30: apps[0].proxy.maxHeaderBytes: maxRequestLineBytes 8KiB must not be larger "
                    + "than maxHeaderBytes 4KiB"
            ]
        )
        // A rejected size is not compared with the other one.
        #expect(
            ConfigFixtures.appProblems("proxy: { maxHeaderBytes: 1MiB, maxRequestLineBytes: 40KiB }") == [
                "slipway.yaml:8:30: apps[0].proxy.maxHeaderBytes: expected a size from 1KiB to 64KiB, got \"1MiB\""
            ]
        )
        #expect(ConfigFixtures.appProblems("proxy: { maxHeaderBytes: 2KiB, maxRequestLineBytes: 2048 }") == [])
    }

    @Test func moreIdleThanOpenUpstreamConnections() {
        #expect(
            ConfigFixtures.appProblems("proxy: { upstreamConnections: 10, idleUpstreamConnections: 20 }") == [
                "slipway.yaml:8:64: apps[0].proxy.idleUpstreamConnections: idleUpstreamConnections 20 must not be "
                    + "more than upstreamConnections 10"
            ]
        )
        // With only upstreamConnections written, the idle count follows it.
        #expect(ConfigFixtures.appProblems("proxy: { upstreamConnections: 32 }") == [])
        // A rejected count is not compared with the other one.
        #expect(
            ConfigFixtures.appProblems("proxy: { upstreamConnections: 0, idleUpstreamConnections: 20 }") == [
                "slipway.yaml:8:35: apps[0].proxy.upstreamConnections: expected an integer from 1 to 100000, got 0"
            ]
        )
        #expect(ConfigFixtures.appProblems("proxy: { upstreamConnections: 8, idleUpstreamConnections: 8 }") == [])
    }

    @Test func bothProxyChecksAtOnce() {
        let problems = ConfigFixtures.appProblems(
            """
            proxy:
              maxHeaderBytes: 2KiB
              maxRequestLineBytes: 3KiB
              upstreamConnections: 4
              idleUpstreamConnections: 5
            """
        )
        #expect(
            problems == [
                "slipway.yaml:10:28: apps[0].proxy.maxRequestLineBytes: maxRequestLineBytes 3KiB must not be larger "
                    + "than maxHeaderBytes 2KiB",
                "slipway.yaml:12:32: apps[0].proxy.idleUpstreamConnections: idleUpstreamConnections 5 must not be "
                    + "more than upstreamConnections 4",
            ]
        )
    }

    private static let twoApps = """
        apps:
          - name: shop
            listen: 127.0.0.1:8080
            instances: 1
            version: "1"
            run: { command: [shop-server] }
          - name: shop
            listen: 127.0.0.1:8080
            instances: 1
            version: "1"
            run: { command: [shop-server] }
        """

    @Test func duplicateAppNamesAndAddresses() {
        #expect(
            ConfigFixtures.problems(Self.twoApps) == [
                "slipway.yaml:7:11: apps[1].name: app name `shop` is already used by apps[0]",
                "slipway.yaml:8:13: apps[1].listen: address 127.0.0.1:8080 is already used by apps[0].listen",
            ]
        )
    }

    @Test func wildcardAddressTakesThePortOnEveryInterface() {
        let yaml = """
            apps:
              - name: shop
                listen: 0.0.0.0:8080
                instances: 1
                version: "1"
                run: { command: [shop-server] }
              - name: admin
                listen: 127.0.0.1:8080
                instances: 1
                version: "1"
                run: { command: [admin-server] }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:8:13: apps[1].listen: address 127.0.0.1:8080 is already used by apps[0].listen "
                    + "(0.0.0.0:8080)"
            ]
        )
    }

    @Test func listenOnTheControllerAPIAddress() {
        let explicit = "controller:\n  api: 127.0.0.1:8080\n" + ConfigFixtures.minimal
        #expect(
            ConfigFixtures.problems(explicit) == [
                "slipway.yaml:5:13: apps[0].listen: address 127.0.0.1:8080 is already used by controller.api"
            ]
        )
        let byDefault = ConfigFixtures.minimal.replacingOccurrences(of: ":8080", with: ":7070")
        #expect(
            ConfigFixtures.problems(byDefault) == [
                "slipway.yaml:3:13: apps[0].listen: address 127.0.0.1:7070 is already used by the controller's default "
                    + "API address"
            ]
        )
    }
}
