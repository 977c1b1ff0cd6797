import SlipwayConfig
import Testing

@Suite("Errors in the structure of the file")
struct StructureErrorTests {
    @Test func brokenYAMLIsOneDiagnosticAtTheParserPosition() {
        let yaml = """
            apps:
              - name: shop: main
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:2:15: invalid YAML: mapping values are not allowed in this context"
            ]
        )
    }

    @Test func unclosedFlowListNamesTheContext() {
        let yaml = """
            apps:
              - name: shop
                run: { command: [a, b }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:3:27: invalid YAML: did not find expected ',' or ']' "
                    + "(while parsing a flow sequence at line 3, column 21)"
            ]
        )
    }

    @Test func emptyDocument() {
        let expected = ["slipway.yaml:1:1: the file is empty; expected a mapping with `apps`"]
        #expect(ConfigFixtures.problems("") == expected)
        #expect(ConfigFixtures.problems("# nothing here yet\n") == expected)
    }

    @Test func documentThatIsNotAMapping() {
        #expect(
            ConfigFixtures.problems("- shop\n") == [
                "slipway.yaml:1:1: expected a mapping with `apps` at the top level, got a list"
            ]
        )
    }

    @Test func moreThanOneDocument() {
        #expect(
            ConfigFixtures.problems(ConfigFixtures.minimal + "\n---\napps: []\n") == [
                "slipway.yaml:8:1: the file holds more than one YAML document; expected a single document"
            ]
        )
    }

    @Test func wrongTypesSayWhatWasExpectedAndFound() {
        let yaml = """
            controller: [api]
            apps:
              - shop
              - name: [shop]
                listen: { host: x }
                instances: three
                version: 1.0.0
                run: shop-server --port 8080
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:1:13: controller: expected a mapping, got a list",
                "slipway.yaml:3:5: apps[0]: expected a mapping, got \"shop\"",
                "slipway.yaml:4:11: apps[1].name: expected an app name of lowercase letters, digits and '-', "
                    + "starting with a letter, at most 63 characters, got a list",
                "slipway.yaml:5:13: apps[1].listen: expected a host:port address like 127.0.0.1:8080, got a mapping",
                "slipway.yaml:6:16: apps[1].instances: expected an integer from 1 to 1000, got \"three\"",
                "slipway.yaml:8:10: apps[1].run: expected a mapping, got \"shop-server --port 8080\"",
            ]
        )
    }

    @Test func appsMustBeANonEmptyList() {
        #expect(
            ConfigFixtures.problems("apps: shop\n") == [
                "slipway.yaml:1:7: apps: expected a list of apps, got \"shop\""
            ]
        )
        #expect(
            ConfigFixtures.problems("apps: []\n") == [
                "slipway.yaml:1:7: apps: expected at least one app, got an empty list"
            ]
        )
    }

    @Test func unknownKeySuggestsTheNearestKnownKey() {
        let problems = ConfigFixtures.appProblems(
            """
            health:
              intervall: 2s
              Timeout: 1s
            """
        )
        #expect(
            problems == [
                "slipway.yaml:9:7: apps[0].health.intervall: unknown key `intervall`; did you mean `interval`?",
                "slipway.yaml:10:7: apps[0].health.Timeout: unknown key `Timeout`; did you mean `timeout`?",
            ]
        )
    }

    @Test func unknownKeyWithoutNearKeyListsTheAllowedKeys() {
        #expect(
            ConfigFixtures.appProblems("colour: red") == [
                "slipway.yaml:8:5: apps[0].colour: unknown key `colour`; expected one of `name`, `listen`, "
                    + "`instances`, `version`, `run`, `health`, `restart`, `logs`, `proxy`, `strategy`, `analysis`, "
                    + "`warmup`, `hooks`, `windows`, `notifications`, `chaos`, `hosts`, `platform`, `kubernetes`"
            ]
        )
    }

    @Test func unknownProxyKeys() {
        let problems = ConfigFixtures.appProblems(
            """
            proxy:
              idleTimout: 5s
              MaxConnections: 10
              maxHeaderSize: 8KiB
            """
        )
        #expect(
            problems == [
                "slipway.yaml:9:7: apps[0].proxy.idleTimout: unknown key `idleTimout`; did you mean `idleTimeout`?",
                "slipway.yaml:10:7: apps[0].proxy.MaxConnections: unknown key `MaxConnections`; "
                    + "did you mean `maxConnections`?",
                "slipway.yaml:11:7: apps[0].proxy.maxHeaderSize: unknown key `maxHeaderSize`; expected one of "
                    + "`maxConnections`, `maxHeaderBytes`, `maxRequestLineBytes`, `idleTimeout`, `headerTimeout`, "
                    + "`connectTimeout`, `responseTimeout`, `drainTimeout`, `upstreamConnections`, "
                    + "`idleUpstreamConnections`, `accessLog`, `outlierDetection`, `retries`, `waitingRoom`",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxi: { idleTimeout: 5s }") == [
                "slipway.yaml:8:5: apps[0].proxi: unknown key `proxi`; did you mean `proxy`?"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: fast") == [
                "slipway.yaml:8:12: apps[0].proxy: expected a mapping, got \"fast\""
            ]
        )
        #expect(
            ConfigFixtures.problems("controller:\n  proxyThread: 4\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:3: controller.proxyThread: unknown key `proxyThread`; did you mean `proxyThreads`?"
            ]
        )
    }

    @Test func misspelledReservedKeyIsSuggested() {
        #expect(
            ConfigFixtures.appProblems("stratgy: canary") == [
                "slipway.yaml:8:5: apps[0].stratgy: unknown key `stratgy`; did you mean `strategy`?"
            ]
        )
    }

    @Test func misspelledTopLevelKey() {
        #expect(
            ConfigFixtures.problems("app:\n  - name: shop\n") == [
                "slipway.yaml:1:1: app: unknown key `app`; did you mean `apps`?",
                "slipway.yaml:1:1: missing required key `apps`",
            ]
        )
    }

    @Test func mergeKeysAreNotSupported() {
        #expect(
            ConfigFixtures.problems("<<: { apps: [] }\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:1:1: <<: merge keys (`<<`) are not supported; write the keys out"
            ]
        )
    }

    @Test func duplicateKeyIsReportedAtTheSecondOccurrence() {
        let yaml = """
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                name: shop2
                instances: 3
                version: "1.0.0"
                run: { command: [shop-server], command: [other] }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:4:5: apps[0].name: duplicate key `name`; it is already set on line 2",
                "slipway.yaml:7:36: apps[0].run.command: duplicate key `command`; it is already set on line 7",
            ]
        )
    }

    @Test func keyRepeatedThreeTimesAndQuotedKeys() {
        let yaml = """
            "apps":
              - name: shop
                listen: 127.0.0.1:8080
                instances: 3
                instances: 4
                'instances': 5
                version: "1.0.0"
                run: { command: [shop-server] }
            apps: []
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:5:5: apps[0].instances: duplicate key `instances`; it is already set on line 4",
                "slipway.yaml:6:5: apps[0].instances: duplicate key `instances`; it is already set on line 4",
                "slipway.yaml:9:1: apps: duplicate key `apps`; it is already set on line 1",
            ]
        )
    }

    @Test func repeatedKeyWithAnAnchor() {
        #expect(
            ConfigFixtures.problems("&top controller: {}\ncontroller: {}\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:1: controller: duplicate key `controller`; it is already set on line 1"
            ]
        )
    }

    @Test func missingRequiredKeysAreReportedAtTheParentMapping() {
        let yaml = """
            apps:
              - name: shop
                version: "1.0.0"
                run:
                  env: { A: b }
            """
        #expect(
            ConfigFixtures.problems(yaml) == [
                "slipway.yaml:2:5: apps[0]: missing required key `listen`",
                "slipway.yaml:2:5: apps[0]: missing required key `instances`",
                "slipway.yaml:5:7: apps[0].run: missing required key `command`",
            ]
        )
        #expect(
            ConfigFixtures.problems("controller: {}\n") == [
                "slipway.yaml:1:1: missing required key `apps`"
            ]
        )
    }

    @Test func diagnosticFieldsAreSet() {
        let diagnostics = ConfigFixtures.diagnostics(ConfigFixtures.appProblemsYAML("colour: red"))
        #expect(diagnostics.count == 1)
        let diagnostic = diagnostics[0]
        #expect(diagnostic.file == "slipway.yaml")
        #expect(diagnostic.line == 8)
        #expect(diagnostic.column == 5)
        #expect(diagnostic.keyPath == "apps[0].colour")
        #expect(diagnostic.message.hasPrefix("unknown key `colour`"))
    }
}
