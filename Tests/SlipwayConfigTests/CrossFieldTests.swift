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
