import SlipwayConfig
import Testing

@Suite("Errors in values")
struct ValueErrorTests {
    /// The minimal file with one line replaced.
    private func problems(replacing old: String, with new: String) -> [String] {
        ConfigFixtures.problems(ConfigFixtures.minimal.replacingOccurrences(of: old, with: new))
    }

    @Test func instancesOutOfRange() {
        #expect(
            problems(replacing: "instances: 3", with: "instances: 0") == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got 0"
            ]
        )
        #expect(
            problems(replacing: "instances: 3", with: "instances: 1001") == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got 1001"
            ]
        )
    }

    @Test func instancesMustBeAnInteger() {
        #expect(
            problems(replacing: "instances: 3", with: "instances: 3.5") == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got 3.5"
            ]
        )
        #expect(
            problems(replacing: "instances: 3", with: "instances: \"3\"") == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got \"3\""
            ]
        )
        #expect(
            problems(replacing: "instances: 3", with: "instances:") == [
                "slipway.yaml:4:15: apps[0].instances: expected an integer from 1 to 1000, got an empty value"
            ]
        )
    }

    @Test func integersAreDecimal() {
        #expect(
            problems(replacing: "instances: 3", with: "instances: 0x10") == [
                "slipway.yaml:4:16: apps[0].instances: expected an integer from 1 to 1000, got 0x10"
            ]
        )
    }

    @Test func negativeDuration() {
        #expect(
            ConfigFixtures.appProblems("health:\n  interval: -1s") == [
                "slipway.yaml:9:17: apps[0].health.interval: durations cannot be negative, got -1s"
            ]
        )
    }

    @Test func malformedDurations() {
        #expect(
            ConfigFixtures.appProblems("health:\n  interval: fast") == [
                "slipway.yaml:9:17: apps[0].health.interval: expected a duration like 250ms, 2s or 1m30s, got \"fast\""
            ]
        )
        #expect(
            ConfigFixtures.appProblems("health:\n  startDeadline: 5") == [
                "slipway.yaml:9:22: apps[0].health.startDeadline: expected a duration like 250ms, 2s or 1m30s, got 5; "
                    + "did you mean `5s`?"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("restart:\n  initialBackoff: 0s") == [
                "slipway.yaml:9:23: apps[0].restart.initialBackoff: expected a duration greater than 0, got \"0s\""
            ]
        )
        #expect(ConfigFixtures.appProblems("  stopGracePeriod: 0") == [])
    }

    @Test func badHostPort() {
        #expect(
            problems(replacing: "listen: 127.0.0.1:8080", with: "listen: localhost") == [
                "slipway.yaml:3:13: apps[0].listen: expected a host:port address like 127.0.0.1:8080, got \"localhost\"; "
                    + "the port is missing"
            ]
        )
        #expect(
            problems(replacing: "listen: 127.0.0.1:8080", with: "listen: 8080") == [
                "slipway.yaml:3:13: apps[0].listen: expected a host:port address like 127.0.0.1:8080, got 8080; "
                    + "the host is missing"
            ]
        )
        #expect(
            problems(replacing: "listen: 127.0.0.1:8080", with: "listen: 127.0.0.1:80800") == [
                "slipway.yaml:3:13: apps[0].listen: expected a host:port address like 127.0.0.1:8080, "
                    + "got \"127.0.0.1:80800\"; the port must be a number from 0 to 65535"
            ]
        )
        #expect(
            problems(replacing: "listen: 127.0.0.1:8080", with: "listen: \"::1:8080\"") == [
                "slipway.yaml:3:13: apps[0].listen: expected a host:port address like 127.0.0.1:8080, got \"::1:8080\"; "
                    + "write IPv6 addresses in brackets, like [::1]:8080"
            ]
        )
    }

    @Test func unknownPlaceholder() {
        #expect(
            problems(replacing: "\"{port}\"", with: "\"{prot}\", \"--name={app}\"") == [
                "slipway.yaml:7:38: apps[0].run.command[2]: unknown placeholder `{prot}`; did you mean `{port}`?",
                "slipway.yaml:7:48: apps[0].run.command[3]: unknown placeholder `{app}`; "
                    + "the placeholders are `{port}`, `{version}` and `{release}`",
            ]
        )
    }

    @Test func bracesThatAreNotPlaceholdersAreKept() throws {
        let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "\"{port}\"", with: "'{\"a\": 1}', \"{}\"")
        #expect(try ConfigFixtures.parse(yaml).apps[0].run.command == ["shop-server", "--port", "{\"a\": 1}", "{}"])
    }

    @Test func commandMustBeANonEmptyListOfStrings() {
        #expect(
            problems(replacing: "[shop-server, --port, \"{port}\"]", with: "shop-server --port 80") == [
                "slipway.yaml:7:16: apps[0].run.command: expected a list like [my-app, --port, \"{port}\"], "
                    + "got \"shop-server --port 80\""
            ]
        )
        #expect(
            problems(replacing: "[shop-server, --port, \"{port}\"]", with: "[]") == [
                "slipway.yaml:7:16: apps[0].run.command: expected a non-empty list with the program and its arguments, "
                    + "got an empty list"
            ]
        )
        #expect(
            problems(replacing: "[shop-server, --port, \"{port}\"]", with: "[\"\", {a: b}]") == [
                "slipway.yaml:7:17: apps[0].run.command[0]: expected the program to run, got an empty string",
                "slipway.yaml:7:21: apps[0].run.command[1]: expected a string, got a mapping",
            ]
        )
    }

    @Test func namesAndVersions() {
        #expect(
            problems(replacing: "name: shop", with: "name: Shop") == [
                "slipway.yaml:2:11: apps[0].name: expected an app name of lowercase letters, digits and '-', "
                    + "starting with a letter, at most 63 characters, got \"Shop\""
            ]
        )
        #expect(
            problems(replacing: "version: \"1.0.0\"", with: "version: \"-1\"") == [
                "slipway.yaml:5:14: apps[0].version: expected a version of letters, digits, '.', '_', '+' and '-', "
                    + "starting with a letter or digit, at most 128 characters, got \"-1\""
            ]
        )
    }

    @Test func environmentNamesAndValues() {
        #expect(
            ConfigFixtures.appProblems("  env: { 1X: a, OK: [b], FINE: 1.5 }") == [
                "slipway.yaml:8:14: apps[0].run.env.1X: expected an environment variable name (letters, digits and _, "
                    + "not starting with a digit), got \"1X\"",
                "slipway.yaml:8:25: apps[0].run.env.OK: expected a string, number or boolean, got a list",
            ]
        )
    }

    @Test func stopSignal() {
        #expect(
            ConfigFixtures.appProblems("  stopSignal: SIGKILL") == [
                "slipway.yaml:8:19: apps[0].run.stopSignal: expected a signal name (SIGTERM, SIGINT, SIGQUIT, SIGHUP, "
                    + "SIGUSR1 or SIGUSR2), got \"SIGKILL\""
            ]
        )
    }

    @Test func healthPathAndThresholds() {
        #expect(
            ConfigFixtures.appProblems("health: { path: healthz, unhealthyThreshold: 101 }") == [
                "slipway.yaml:8:21: apps[0].health.path: expected a path starting with /, got \"healthz\"",
                "slipway.yaml:8:50: apps[0].health.unhealthyThreshold: expected an integer from 1 to 100, got 101",
            ]
        )
    }

    @Test func logSizes() {
        #expect(
            ConfigFixtures.appProblems("logs: { maxBytes: 1KiB, keep: 21 }") == [
                "slipway.yaml:8:23: apps[0].logs.maxBytes: expected a size from 4KiB to 1GiB, got \"1KiB\"",
                "slipway.yaml:8:35: apps[0].logs.keep: expected an integer from 0 to 20, got 21",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("logs: { maxBytes: lots }") == [
                "slipway.yaml:8:23: apps[0].logs.maxBytes: expected a size like 512KiB, 10MiB or 1MB, got \"lots\""
            ]
        )
    }

    @Test func proxyThreadsOutOfRange() throws {
        let prefix = "controller:\n  proxyThreads: "
        #expect(
            ConfigFixtures.problems(prefix + "0\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:17: controller.proxyThreads: expected an integer from 1 to 64, got 0"
            ]
        )
        #expect(
            ConfigFixtures.problems(prefix + "65\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:17: controller.proxyThreads: expected an integer from 1 to 64, got 65"
            ]
        )
        #expect(
            ConfigFixtures.problems(prefix + "four\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:17: controller.proxyThreads: expected an integer from 1 to 64, got \"four\""
            ]
        )
        #expect(try ConfigFixtures.parse(prefix + "1\n" + ConfigFixtures.minimal).controller.proxyThreads == 1)
        #expect(try ConfigFixtures.parse(prefix + "64\n" + ConfigFixtures.minimal).controller.proxyThreads == 64)
    }

    @Test func proxyCountsOutOfRange() {
        #expect(
            ConfigFixtures.appProblems("proxy: { maxConnections: 0 }") == [
                "slipway.yaml:8:30: apps[0].proxy.maxConnections: expected an integer from 1 to 1000000, got 0"
            ]
        )
        let problems = ConfigFixtures.appProblems(
            """
            proxy:
              maxConnections: 1000001
              upstreamConnections: 0
              idleUpstreamConnections: -1
            """
        )
        #expect(
            problems == [
                "slipway.yaml:9:23: apps[0].proxy.maxConnections: expected an integer from 1 to 1000000, got 1000001",
                "slipway.yaml:10:28: apps[0].proxy.upstreamConnections: expected an integer from 1 to 100000, got 0",
                "slipway.yaml:11:32: apps[0].proxy.idleUpstreamConnections: expected an integer from 0 to 100000, "
                    + "got -1",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: { upstreamConnections: 100001, idleUpstreamConnections: 2.5 }") == [
                "slipway.yaml:8:35: apps[0].proxy.upstreamConnections: expected an integer from 1 to 100000, "
                    + "got 100001",
                "slipway.yaml:8:68: apps[0].proxy.idleUpstreamConnections: expected an integer from 0 to 100000, "
                    + "got 2.5",
            ]
        )
    }

    @Test func proxyCountBoundsAreAccepted() throws {
        let yaml = ConfigFixtures.appProblemsYAML(
            "proxy: { maxConnections: 1000000, upstreamConnections: 100000, idleUpstreamConnections: 100000 }"
        )
        let proxy = try ConfigFixtures.parse(yaml).apps[0].proxy
        #expect(proxy.maxConnections == 1_000_000)
        #expect(proxy.upstreamConnections == 100_000)
        #expect(proxy.idleUpstreamConnections == 100_000)
        let lowest = ConfigFixtures.appProblemsYAML(
            "proxy: { maxConnections: 1, upstreamConnections: 1, idleUpstreamConnections: 0 }"
        )
        #expect(
            try ConfigFixtures.parse(lowest).apps[0].proxy
                == ProxySpec(maxConnections: 1, upstreamConnections: 1, idleUpstreamConnections: 0)
        )
    }

    @Test func proxySizesOutOfRange() {
        let tooSmall = ConfigFixtures.appProblems(
            """
            proxy:
              maxHeaderBytes: 1023
              maxRequestLineBytes: 255
            """
        )
        #expect(
            tooSmall == [
                "slipway.yaml:9:23: apps[0].proxy.maxHeaderBytes: expected a size from 1KiB to 64KiB, got 1023",
                "slipway.yaml:10:28: apps[0].proxy.maxRequestLineBytes: expected a size from 256 to 64KiB, got 255",
            ]
        )
        let tooLarge = ConfigFixtures.appProblems(
            """
            proxy:
              maxHeaderBytes: 128KiB
              maxRequestLineBytes: 65537
            """
        )
        #expect(
            tooLarge == [
                "slipway.yaml:9:23: apps[0].proxy.maxHeaderBytes: expected a size from 1KiB to 64KiB, got \"128KiB\"",
                "slipway.yaml:10:28: apps[0].proxy.maxRequestLineBytes: expected a size from 256 to 64KiB, got 65537",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: { maxHeaderBytes: big }") == [
                "slipway.yaml:8:30: apps[0].proxy.maxHeaderBytes: expected a size like 512KiB, 10MiB or 1MB, "
                    + "got \"big\""
            ]
        )
    }

    @Test func proxySizeBoundsAreAccepted() throws {
        let largest = ConfigFixtures.appProblemsYAML("proxy: { maxHeaderBytes: 64KiB, maxRequestLineBytes: 65536 }")
        #expect(
            try ConfigFixtures.parse(largest).apps[0].proxy
                == ProxySpec(maxHeaderBytes: 64 * 1024, maxRequestLineBytes: 64 * 1024)
        )
        let smallest = ConfigFixtures.appProblemsYAML("proxy: { maxHeaderBytes: 1KiB, maxRequestLineBytes: 256B }")
        #expect(
            try ConfigFixtures.parse(smallest).apps[0].proxy
                == ProxySpec(maxHeaderBytes: 1024, maxRequestLineBytes: 256)
        )
    }

    @Test func proxyDurations() {
        let problems = ConfigFixtures.appProblems(
            """
            proxy:
              idleTimeout: 0s
              headerTimeout: 0
              connectTimeout: -1s
              responseTimeout: 30
              drainTimeout: soon
            """
        )
        #expect(
            problems == [
                "slipway.yaml:9:20: apps[0].proxy.idleTimeout: expected a duration greater than 0, got \"0s\"",
                "slipway.yaml:10:22: apps[0].proxy.headerTimeout: expected a duration greater than 0, got 0",
                "slipway.yaml:11:23: apps[0].proxy.connectTimeout: durations cannot be negative, got -1s",
                "slipway.yaml:12:24: apps[0].proxy.responseTimeout: expected a duration like 250ms, 2s or 1m30s, "
                    + "got 30; did you mean `30s`?",
                "slipway.yaml:13:21: apps[0].proxy.drainTimeout: expected a duration like 250ms, 2s or 1m30s, "
                    + "got \"soon\"",
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: { drainTimeout: -5s }") == [
                "slipway.yaml:8:28: apps[0].proxy.drainTimeout: durations cannot be negative, got -5s"
            ]
        )
    }

    @Test func zeroDrainTimeoutIsAccepted() throws {
        let yaml = ConfigFixtures.appProblemsYAML("proxy: { drainTimeout: 0 }")
        #expect(try ConfigFixtures.parse(yaml).apps[0].proxy.drainTimeout == .zero)
    }

    @Test func plainByteCountsAreAccepted() throws {
        let yaml = ConfigFixtures.appProblemsYAML("logs: { maxBytes: 4096 }")
        #expect(try ConfigFixtures.parse(yaml).apps[0].logs.maxBytes == 4096)
    }

    @Test func tokenNeedsExactlyOneSource() {
        let prefix = "controller:\n  token: "
        #expect(
            ConfigFixtures.problems(prefix + "{ env: A, file: b }\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:20: controller.token.file: `env` and `file` cannot both be set; choose one"
            ]
        )
        #expect(
            ConfigFixtures.problems(prefix + "{}\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:10: controller.token: expected exactly one of `env` or `file`, got neither"
            ]
        )
        #expect(
            ConfigFixtures.problems(prefix + "secret\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:10: controller.token: expected a mapping like {env: NAME} or {file: PATH}, or `none` for "
                    + "an open API, got \"secret\""
            ]
        )
        #expect(
            ConfigFixtures.problems(prefix + "{ env: my-token }\n" + ConfigFixtures.minimal) == [
                "slipway.yaml:2:17: controller.token.env: expected an environment variable name like SLIPWAY_TOKEN, "
                    + "got \"my-token\""
            ]
        )
    }
}

/// `proxy.accessLog`: off by default, `true` for the defaults, a mapping for the sizes.
@Suite struct AccessLogConfigTests {
    @Test func theAccessLogIsOffUnlessAskedFor() throws {
        #expect(try ConfigFixtures.parse(ConfigFixtures.appProblemsYAML("proxy: {}")).apps[0].proxy.accessLog == nil)
        let on = ConfigFixtures.appProblemsYAML("proxy: { accessLog: true }")
        #expect(try ConfigFixtures.parse(on).apps[0].proxy.accessLog == AccessLogSpec(maxBytes: 64 << 20, keep: 5))
        let off = ConfigFixtures.appProblemsYAML("proxy: { accessLog: false }")
        #expect(try ConfigFixtures.parse(off).apps[0].proxy.accessLog == nil)
        let sized = ConfigFixtures.appProblemsYAML("proxy: { accessLog: { maxBytes: 8MiB, keep: 0 } }")
        #expect(try ConfigFixtures.parse(sized).apps[0].proxy.accessLog == AccessLogSpec(maxBytes: 8 << 20, keep: 0))
    }

    @Test func aWrongAccessLogSaysWhereAndWhatIsExpected() {
        #expect(
            ConfigFixtures.appProblems("proxy: { accessLog: yes }") == [
                "slipway.yaml:8:25: apps[0].proxy.accessLog: expected true or false, got yes"
            ]
        )
        #expect(
            ConfigFixtures.appProblems("proxy: { accessLog: { maxBytes: 1KiB, keep: 21, path: x } }") == [
                #"slipway.yaml:8:37: apps[0].proxy.accessLog.maxBytes: expected a size from 4KiB to 1GiB, got "1KiB""#,
                "slipway.yaml:8:49: apps[0].proxy.accessLog.keep: expected an integer from 0 to 20, got 21",
                "slipway.yaml:8:53: apps[0].proxy.accessLog.path: unknown key `path`; expected one of `maxBytes`, `keep`",
            ]
        )
    }
}
