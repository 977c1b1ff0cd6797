import SlipwayConfig
import Testing

@Suite("The strategy section")
struct StrategyConfigTests {
    @Test func absentStrategyRollsWithTheDefaults() throws {
        let strategy = try ConfigFixtures.app("").strategy
        #expect(strategy == StrategySpec())
        #expect(strategy.kind == .rolling(RollingSpec()))
        #expect(strategy.name == "rolling")
        #expect(strategy.progressDeadline == .seconds(600))
        #expect(strategy.maxDuration == .seconds(86_400))
        let rolling = RollingSpec()
        #expect(rolling.maxSurge == .percentage(Percentage(basisPoints: 2_500)))
        #expect(rolling.maxUnavailable == .count(0))
        #expect(rolling.analysis == nil)
    }

    @Test func emptyStrategyIsTheDefault() throws {
        #expect(try ConfigFixtures.app("strategy:").strategy == StrategySpec())
        #expect(try ConfigFixtures.app("strategy: {}").strategy == StrategySpec())
    }

    @Test func recreate() throws {
        let strategy = try ConfigFixtures.app("strategy: { recreate: {}, progressDeadline: 5m, maxDuration: 2h }")
            .strategy
        #expect(strategy == StrategySpec(kind: .recreate, progressDeadline: .seconds(300), maxDuration: .seconds(7200)))
        #expect(strategy.name == "recreate")
        #expect(try ConfigFixtures.app("strategy:\n  recreate:").strategy == StrategySpec(kind: .recreate))
    }

    @Test func recreateHasNoSettings() {
        #expect(
            ConfigFixtures.appProblems("strategy: { recreate: { drain: true } }") == [
                "slipway.yaml:8:29: apps[0].strategy.recreate.drain: unknown key `drain`; `recreate` has no settings"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: { recreate: now }") == [
                "slipway.yaml:8:27: apps[0].strategy.recreate: expected an empty mapping {}, got \"now\""
            ]
        )
    }

    @Test func rollingCountsAndPercentages() throws {
        let counts = try ConfigFixtures.app("strategy: { rolling: { maxSurge: 1, maxUnavailable: 0 } }").strategy
        #expect(counts.kind == .rolling(RollingSpec(maxSurge: .count(1), maxUnavailable: .count(0))))
        let shares = try ConfigFixtures.app("strategy: { rolling: { maxSurge: 50%, maxUnavailable: 12.5% } }")
        #expect(
            shares.strategy.kind
                == .rolling(
                    RollingSpec(
                        maxSurge: .percentage(Percentage(basisPoints: 5_000)),
                        maxUnavailable: .percentage(Percentage(basisPoints: 1_250))
                    )
                )
        )
        #expect(try ConfigFixtures.app("strategy:\n  rolling:").strategy.kind == .rolling(RollingSpec()))
    }

    @Test func rollingAnalysis() throws {
        let yaml = "strategy: { rolling: { maxSurge: 1, analysis: { windows: 2, failureLimit: 1 } } }"
        let expected = RollingSpec(maxSurge: .count(1), analysis: AnalysisStepSpec(windows: 2, failureLimit: 1))
        #expect(try ConfigFixtures.app(yaml).strategy.kind == .rolling(expected))
        let defaults = try ConfigFixtures.app("strategy: { rolling: { analysis: {} } }").strategy.kind
        #expect(defaults == .rolling(RollingSpec(analysis: AnalysisStepSpec(windows: 3, failureLimit: 0, checks: nil))))
    }

    @Test func instanceAmountsResolveAgainstTheAppCount() {
        let quarter = InstanceAmount.percentage(Percentage(basisPoints: 2_500))
        #expect(quarter.resolve(of: 3, roundUp: true) == 1)
        #expect(quarter.resolve(of: 3, roundUp: false) == 0)
        #expect(quarter.resolve(of: 8, roundUp: false) == 2)
        #expect(InstanceAmount.count(2).resolve(of: 3, roundUp: false) == 2)
    }

    @Test func rollingAmountErrors() {
        let expectation = "expected an instance count from 0 to 1000 or a percentage like 25%"
        #expect(
            ConfigFixtures.appProblems("strategy:\n  rolling:\n    maxSurge: -1\n    maxUnavailable: 150%") == [
                "slipway.yaml:10:19: apps[0].strategy.rolling.maxSurge: \(expectation), got -1",
                "slipway.yaml:11:25: apps[0].strategy.rolling.maxUnavailable: \(expectation), got \"150%\"",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 2.5 } }") == [
                "slipway.yaml:8:38: apps[0].strategy.rolling.maxSurge: \(expectation), got 2.5"
            ]
        )
    }

    @Test func rollingMustReplaceSomething() {
        #expect(
            ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 0, maxUnavailable: 0 } }") == [
                "slipway.yaml:8:38: apps[0].strategy.rolling.maxSurge: maxSurge 0 and maxUnavailable 0 must not both "
                    + "come to 0 of the app's 3 instances, or no instance can be replaced"
            ]
        )
        // 25% of 3 instances rounds down to 0 for maxUnavailable.
        #expect(
            ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 0%, maxUnavailable: 25% } }") == [
                "slipway.yaml:8:38: apps[0].strategy.rolling.maxSurge: maxSurge 0% and maxUnavailable 25% must not "
                    + "both come to 0 of the app's 3 instances, or no instance can be replaced"
            ]
        )
        #expect(ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 0, maxUnavailable: 34% } }") == [])
        #expect(ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 1%, maxUnavailable: 0 } }") == [])
        // A rejected amount is not compared with the other one.
        #expect(
            ConfigFixtures.appProblems("strategy: { rolling: { maxSurge: 0, maxUnavailable: some } }") == [
                "slipway.yaml:8:57: apps[0].strategy.rolling.maxUnavailable: expected an instance count from 0 to 1000 "
                    + "or a percentage like 25%, got \"some\""
            ]
        )
    }

    @Test func rollingIsNotCheckedAgainstARejectedInstanceCount() {
        let yaml = ConfigFixtures.appProblemsYAML("strategy: { rolling: { maxSurge: 0 } }")
            .replacingOccurrences(of: "instances: 3", with: "instances: 0")
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got 0"
            ]
        )
    }

    @Test func blueGreenEveryKey() throws {
        let yaml = """
            strategy:
              blueGreen:
                previewListen: 127.0.0.1:0
                autoPromote: false
                scaleDownDelay: 1m
                prePromotion: { windows: 2 }
                postPromotion: { windows: 3, failureLimit: 1 }
            """
        let expected = BlueGreenSpec(
            previewListen: HostPort(host: "127.0.0.1", port: 0),
            prePromotion: AnalysisStepSpec(windows: 2),
            postPromotion: AnalysisStepSpec(windows: 3, failureLimit: 1),
            autoPromote: false,
            scaleDownDelay: .seconds(60)
        )
        let strategy = try ConfigFixtures.app(yaml).strategy
        #expect(strategy.kind == .blueGreen(expected))
        #expect(strategy.name == "blueGreen")
    }

    @Test func blueGreenDefaults() throws {
        let strategy = try ConfigFixtures.app("strategy: { blueGreen: {} }").strategy
        #expect(strategy.kind == .blueGreen(BlueGreenSpec()))
        let defaults = BlueGreenSpec()
        #expect(defaults.previewListen == nil)
        #expect(defaults.prePromotion == nil)
        #expect(defaults.postPromotion == nil)
        #expect(defaults.autoPromote)
        #expect(defaults.scaleDownDelay == .seconds(30))
        let zeroDelay = try ConfigFixtures.app("strategy: { blueGreen: { scaleDownDelay: 0, postPromotion: } }")
        #expect(
            zeroDelay.strategy.kind
                == .blueGreen(BlueGreenSpec(postPromotion: AnalysisStepSpec(), scaleDownDelay: .zero))
        )
    }

    @Test func blueGreenErrors() {
        let yaml = """
            strategy:
              blueGreen:
                previewListen: localhost
                autoPromote: yes
                scaleDownDelay: -1s
                prePromotion: { windows: 0 }
                postPromotion: { failureLimit: many }
            """
        #expect(
            ConfigFixtures.appProblems(yaml) == [
                "slipway.yaml:10:24: apps[0].strategy.blueGreen.previewListen: expected a host:port address like "
                    + "127.0.0.1:8080, got \"localhost\"; the port is missing",
                "slipway.yaml:11:22: apps[0].strategy.blueGreen.autoPromote: expected true or false, got yes",
                "slipway.yaml:12:25: apps[0].strategy.blueGreen.scaleDownDelay: durations cannot be negative, got -1s",
                "slipway.yaml:13:34: apps[0].strategy.blueGreen.prePromotion.windows: expected an integer from 1 to "
                    + "1000, got 0",
                "slipway.yaml:14:40: apps[0].strategy.blueGreen.postPromotion.failureLimit: expected an integer from 0 "
                    + "to 1000, got \"many\"",
            ]
        )
    }

    @Test func previewListenMustNotTakeAnotherAddress() {
        #expect(
            ConfigFixtures.appProblems("strategy: { blueGreen: { previewListen: 127.0.0.1:8080 } }") == [
                "slipway.yaml:8:45: apps[0].strategy.blueGreen.previewListen: address 127.0.0.1:8080 is already used "
                    + "by apps[0].listen"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: { blueGreen: { previewListen: 0.0.0.0:8080 } }") == [
                "slipway.yaml:8:45: apps[0].strategy.blueGreen.previewListen: address 0.0.0.0:8080 is already used by "
                    + "apps[0].listen (127.0.0.1:8080)"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: { blueGreen: { previewListen: 127.0.0.1:7070 } }") == [
                "slipway.yaml:8:45: apps[0].strategy.blueGreen.previewListen: address 127.0.0.1:7070 is already used "
                    + "by the controller's default API address"
            ]
        )
        let explicitAPI =
            "controller:\n  api: 127.0.0.1:9000\n"
            + ConfigFixtures.appProblemsYAML("strategy: { blueGreen: { previewListen: 127.0.0.1:9000 } }")
        #expect(
            ConfigFixtures.problems(explicitAPI) == [
                "slipway.yaml:10:45: apps[0].strategy.blueGreen.previewListen: address 127.0.0.1:9000 is already "
                    + "used by controller.api"
            ]
        )
        #expect(ConfigFixtures.appProblems("strategy: { blueGreen: { previewListen: 127.0.0.1:8081 } }") == [])
        // Port 0 takes any free port, so it never collides.
        #expect(ConfigFixtures.appProblems("strategy: { blueGreen: { previewListen: 0.0.0.0:0 } }") == [])
    }

    @Test func previewListenAcrossApps() {
        let yaml = """
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                instances: 1
                version: "1"
                run: { command: [shop-server] }
                strategy: { blueGreen: { previewListen: 127.0.0.1:9090 } }
              - name: admin
                listen: 127.0.0.1:8081
                instances: 1
                version: "1"
                run: { command: [admin-server] }
                strategy: { blueGreen: { previewListen: 127.0.0.1:9090 } }
              - name: blog
                listen: 127.0.0.1:8082
                instances: 1
                version: "1"
                run: { command: [blog-server] }
                strategy: { blueGreen: { previewListen: 0.0.0.0:8081 } }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:13:45: apps[1].strategy.blueGreen.previewListen: address 127.0.0.1:9090 is already used "
                    + "by apps[0].strategy.blueGreen.previewListen",
                "slipway.yaml:19:45: apps[2].strategy.blueGreen.previewListen: address 0.0.0.0:8081 is already used "
                    + "by apps[1].listen (127.0.0.1:8081)",
            ]
        )
    }

    @Test func twoStrategiesAtOnce() {
        #expect(
            ConfigFixtures.appProblems("strategy:\n  rolling: {}\n  canary: { steps: [{ weight: 10 }] }") == [
                "slipway.yaml:10:7: apps[0].strategy.canary: `rolling` and `canary` cannot both be set; "
                    + "choose one strategy"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: { recreate: {}, blueGreen: {}, rolling: {} }") == [
                "slipway.yaml:8:31: apps[0].strategy.blueGreen: `recreate` and `blueGreen` cannot both be set; "
                    + "choose one strategy",
                "slipway.yaml:8:46: apps[0].strategy.rolling: `recreate` and `rolling` cannot both be set; "
                    + "choose one strategy",
            ]
        )
    }

    @Test func strategyWithoutAKind() {
        #expect(
            ConfigFixtures.appProblems("strategy: { progressDeadline: 5m }") == [
                "slipway.yaml:8:15: apps[0].strategy: expected exactly one of `recreate`, `rolling`, `blueGreen`, "
                    + "`canary` or `abTest`, got none"
            ]
        )
        // A misspelled strategy is reported once, as a misspelling.
        #expect(
            ConfigFixtures.appProblems("strategy:\n  canry: { steps: [{ weight: 10 }] }") == [
                "slipway.yaml:9:7: apps[0].strategy.canry: unknown key `canry`; did you mean `canary`?"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("strategy: canary") == [
                "slipway.yaml:8:15: apps[0].strategy: expected a mapping, got \"canary\""
            ]
        )
    }

    @Test func deadlines() {
        #expect(
            ConfigFixtures.appProblems("strategy: { recreate: {}, progressDeadline: 0s, maxDuration: 1 }") == [
                "slipway.yaml:8:49: apps[0].strategy.progressDeadline: expected a duration greater than 0, got \"0s\"",
                "slipway.yaml:8:66: apps[0].strategy.maxDuration: expected a duration like 250ms, 2s or 1m30s, got 1; "
                    + "did you mean `1s`?",
            ]
        )
    }
}
