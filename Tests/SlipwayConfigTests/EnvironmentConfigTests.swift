import SlipwayConfig
import Testing

@Suite("Environments")
struct EnvironmentConfigTests {
    static let yaml = """
        apps:
          - name: shop
            listen: 127.0.0.1:8080
            instances: 3
            version: "1.0.0"
            run:
              command: [shop-server, --port, "{port}"]
              env: { LOG_LEVEL: info, REGION: eu }
            health: { path: /healthz, interval: 2s }
            strategy:
              canary: { steps: [{ weight: 10 }, { pause: 1m }] }
        environments:
          staging:
            apps:
              shop:
                listen: 127.0.0.1:8180
                instances: 1
                run: { env: { LOG_LEVEL: debug } }
                strategy: { rolling: {} }
          prod:
            requires: staging
            apps:
              shop:
                listen: 127.0.0.1:8080
        """

    @Test func everyAppRunsOncePerEnvironmentWithItsOverridesMergedIn() throws {
        let config = try ConfigFixtures.parse(Self.yaml)
        #expect(
            config.environments == [
                EnvironmentSpec(name: "staging", apps: ["shop"]),
                EnvironmentSpec(name: "prod", requires: "staging", apps: ["shop"]),
            ]
        )
        #expect(config.apps.map(\.name) == ["shop@staging", "shop@prod"])
        let staging = try #require(config.app(named: "shop@staging"))
        let prod = try #require(config.app(named: "shop@prod"))
        #expect(staging.baseName == "shop" && staging.environment == "staging" && staging.requires == nil)
        #expect(prod.environment == "prod" && prod.requires == "staging")
        #expect(staging.listen.port == 8180 && prod.listen.port == 8080)
        #expect(staging.instances == 1 && prod.instances == 3)
        // Mappings merge key by key; the untouched keys come from the app.
        #expect(staging.run.env == ["LOG_LEVEL": "debug", "REGION": "eu"])
        #expect(staging.run.command == ["shop-server", "--port", "{port}"])
        #expect(staging.health.interval == .seconds(2))
        // Choosing another strategy replaces the app's, rather than adding a second one.
        #expect(staging.strategy.name == "rolling")
        #expect(prod.strategy.name == "canary")
        #expect(prod.keyPath("listen") == "environments.prod.apps.shop.listen")
        #expect(config.apps(baseName: "shop").map(\.name) == ["shop@staging", "shop@prod"])
    }

    @Test func aConfigWithoutEnvironmentsKeepsPlainNames() throws {
        let app = try ConfigFixtures.app("")
        #expect(app.name == "shop" && app.baseName == "shop" && app.environment == nil)
        #expect(app.keyPath("listen") == "apps[0].listen")
    }

    @Test func mistakesArePositionedOnceAndNamed() {
        let yaml = """
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                instances: 3
                version: "1.0.0"
                health: { interval: soon }
                run: { command: [shop-server] }
              - name: cart
                listen: 127.0.0.1:8090
                instances: 1
                version: "1.0.0"
                run: { command: [cart-server] }
            environments:
              staging:
                requires: prod
                apps:
                  shopp: {}
                  shop: { listen: 127.0.0.1:8180, name: other }
              prod:
                requires: prod
                apps:
                  shop: { listen: 127.0.0.1:8180, instances: 0 }
              Bad: { apps: {} }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:6:25: apps[0].health.interval: expected a duration like 250ms, 2s or 1m30s, got "
                    + "\"soon\"",
                "slipway.yaml:8:5: apps[1]: app `cart` runs in no environment; list it under "
                    + "`environments.<name>.apps` (with `{}` when nothing differs there)",
                "slipway.yaml:15:15: environments.staging.requires: no environment `prod` is declared before "
                    + "`staging`; releases go through environments in the order written (declared before: none)",
                "slipway.yaml:17:7: environments.staging.apps.shopp: no app `shopp` in `apps`; did you mean `shop`?",
                "slipway.yaml:18:39: environments.staging.apps.shop.name: an app keeps its name in every environment",
                "slipway.yaml:20:15: environments.prod.requires: an environment cannot require itself",
                "slipway.yaml:22:23: environments.prod.apps.shop.listen: address 127.0.0.1:8180 is already used by "
                    + "environments.staging.apps.shop.listen",
                "slipway.yaml:22:50: environments.prod.apps.shop.instances: expected an integer from 1 to 1000, got 0",
                "slipway.yaml:23:3: environments.Bad: expected an environment name of lowercase letters, digits and "
                    + "'-', starting with a letter, got \"Bad\"",
            ]
        )
    }
}

@Suite("The release hygiene example")
struct ReleaseHygieneExampleTests {
    /// `examples/release-hygiene.yaml` says, in one file: snapshot before deploy, smoke-test before switching, Slack
    /// on every start, promotion and rollback, no deploys Friday evening in Seoul, prod only after staging.
    @Test func theExampleSaysEveryRuleOfTheStory() throws {
        let path =
            "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/examples/release-hygiene.yaml"
        let config = try ConfigLoader.load(file: path)
        #expect(config.environments.map(\.name) == ["staging", "prod"])
        let staging = try #require(config.app(named: "shop@staging"))
        let prod = try #require(config.app(named: "shop@prod"))
        #expect(prod.requires == "staging" && staging.requires == nil)
        for app in [staging, prod] {
            #expect(app.hooks[.preDeploy].map(\.name) == ["snapshot"])
            #expect(app.hooks[.prePromotion].map(\.name) == ["smoke"])
            let slack = try #require(app.notifications.first)
            #expect(slack.kind == .slack && slack.url == .environment("SLACK_WEBHOOK_URL"))
            #expect(
                slack.events.isSuperset(of: [.rolloutStarted, .rolloutPromoted, .rolloutRollingBack, .rolloutFinished])
            )
        }
        #expect(staging.windows.isEmpty)
        let windows = try #require(prod.windows.first)
        #expect(windows.timeZone == "Asia/Seoul")
        #expect(windows.deny.map(\.text) == ["Fri 17:00 – Mon 09:00"])
        #expect(windows.freezes.map(\.reason) == ["year-end freeze"])
        #expect(staging.listen.port == 8180 && prod.listen.port == 8080)
    }
}
