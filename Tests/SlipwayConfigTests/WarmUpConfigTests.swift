import SlipwayConfig
import Testing

@Suite("The warmup section")
struct WarmUpConfigTests {
    /// The problems of `warmup` with these lines under it (from line 9, column 7 on).
    private func problems(_ lines: String) -> [String] {
        let indented = lines.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
        return ConfigFixtures.appProblems("warmup:\n" + indented.joined(separator: "\n"))
    }

    @Test func absentWarmUpSendsNothing() throws {
        let warmup = try ConfigFixtures.app("").warmup
        #expect(warmup == WarmUpSpec())
        #expect(warmup.paths.isEmpty)
        #expect(warmup.count == 0)
        #expect(warmup.duration == nil)
        #expect(warmup.concurrency == 4)
        #expect(warmup.replay == 0)
        #expect(warmup.slowStart == .zero)
        #expect(warmup.timeout == .seconds(30))
        #expect(!warmup.sendsRequests)
        #expect(try ConfigFixtures.app("warmup:").warmup == WarmUpSpec())
    }

    @Test func everyKeyWithACount() throws {
        let yaml = """
            warmup:
              requests: { paths: [/, /api/items], count: 50 }
              concurrency: 8
              replay: 100
              slowStart: 10s
              timeout: 1m
            """
        let warmup = try ConfigFixtures.app(yaml).warmup
        #expect(
            warmup
                == WarmUpSpec(
                    paths: ["/", "/api/items"],
                    count: 50,
                    concurrency: 8,
                    replay: 100,
                    slowStart: .seconds(10),
                    timeout: .seconds(60)
                )
        )
        #expect(warmup.sendsRequests)
    }

    @Test func requestsForADuration() throws {
        let warmup = try ConfigFixtures.app("warmup:\n  requests:\n    paths: [/healthz]\n    duration: 5s").warmup
        #expect(warmup == WarmUpSpec(paths: ["/healthz"], duration: .seconds(5)))
        #expect(warmup.sendsRequests)
    }

    @Test func replayAloneSendsRequests() throws {
        let warmup = try ConfigFixtures.app("warmup: { replay: 10, slowStart: 0 }").warmup
        #expect(warmup == WarmUpSpec(replay: 10))
        #expect(warmup.sendsRequests)
    }

    @Test func countOrDuration() {
        #expect(
            problems("requests: { paths: [/], count: 5, duration: 5s }") == [
                "slipway.yaml:9:41: apps[0].warmup.requests.duration: `count` and `duration` cannot both be set; "
                    + "choose one"
            ]
        )
        #expect(
            problems("requests: { paths: [/] }") == [
                "slipway.yaml:9:17: apps[0].warmup.requests: expected exactly one of `count` or `duration`, got "
                    + "neither"
            ]
        )
        #expect(
            problems("requests: { paths: [/], count: -1 }") == [
                "slipway.yaml:9:38: apps[0].warmup.requests.count: expected an integer from 0 to 1000000, got -1"
            ]
        )
        #expect(
            problems("requests: { paths: [/], duration: 0s }") == [
                "slipway.yaml:9:41: apps[0].warmup.requests.duration: expected a duration greater than 0, got \"0s\""
            ]
        )
    }

    @Test func pathErrors() {
        #expect(
            problems("requests: { count: 5 }") == [
                "slipway.yaml:9:17: apps[0].warmup.requests: missing required key `paths`"
            ]
        )
        #expect(
            problems("requests: { paths: [], count: 5 }") == [
                "slipway.yaml:9:26: apps[0].warmup.requests.paths: expected at least one path, got an empty list"
            ]
        )
        #expect(
            problems("requests: { paths: [/, api, \"/a b\"], count: 5 }") == [
                "slipway.yaml:9:30: apps[0].warmup.requests.paths[1]: expected a path starting with /, got \"api\"",
                "slipway.yaml:9:35: apps[0].warmup.requests.paths[2]: expected a path starting with /, got \"/a b\"",
            ]
        )
        #expect(
            problems("requests: { paths: /, count: 5 }") == [
                "slipway.yaml:9:26: apps[0].warmup.requests.paths: expected a list of paths like [/, /api/items], "
                    + "got \"/\""
            ]
        )
        #expect(
            problems("requests:") == [
                "slipway.yaml:9:16: apps[0].warmup.requests: missing required key `paths`",
                "slipway.yaml:9:16: apps[0].warmup.requests: expected exactly one of `count` or `duration`, got "
                    + "neither",
            ]
        )
    }

    @Test func rangeErrors() {
        let yaml = """
            concurrency: 257
            replay: 10001
            slowStart: -1s
            timeout: 0s
            reqests: {}
            """
        #expect(
            problems(yaml) == [
                "slipway.yaml:9:20: apps[0].warmup.concurrency: expected an integer from 1 to 256, got 257",
                "slipway.yaml:10:15: apps[0].warmup.replay: expected an integer from 0 to 10000, got 10001",
                "slipway.yaml:11:18: apps[0].warmup.slowStart: durations cannot be negative, got -1s",
                "slipway.yaml:12:16: apps[0].warmup.timeout: expected a duration greater than 0, got \"0s\"",
                "slipway.yaml:13:7: apps[0].warmup.reqests: unknown key `reqests`; did you mean `requests`?",
            ]
        )
    }
}
