import SlipwayConfig
import Testing

@Suite("PromQL query checks and controller.prometheus")
struct QueryCheckConfigTests {
    /// The minimal file with a controller naming a Prometheus (or `controller` lines of its own) and `analysis` lines.
    private func yaml(analysis: String, controller: String = "prometheus: http://127.0.0.1:9090") -> String {
        "controller:\n" + controller.indented(2) + "\n" + ConfigFixtures.minimal + "\n    analysis:\n"
            + analysis.indented(6)
    }

    @Test func aQueryCheckKeepsItsQueryBoundAndName() throws {
        let config = try ConfigFixtures.parse(
            yaml(
                analysis: """
                    checks:
                      - query: 'sum(rate(http_errors_total{version="{version}"}[{window}]))'
                        max: 0.5
                      - {query: "sum(orders_total{app=\\"{app}\\"})", min: 100, name: orders, minRequests: 20}
                    """
            )
        )
        #expect(config.controller.prometheus == PrometheusSpec(url: "http://127.0.0.1:9090"))
        let checks = config.apps[0].analysis.checks
        #expect(
            checks == [
                AnalysisCheck(
                    metric: .query,
                    comparison: .lessThanOrEqual,
                    threshold: 0.5,
                    text: "query <= 0.5",
                    query: "sum(rate(http_errors_total{version=\"{version}\"}[{window}]))"
                ),
                AnalysisCheck(
                    metric: .query,
                    comparison: .greaterThanOrEqual,
                    threshold: 100,
                    minRequests: 20,
                    text: "orders",
                    query: "sum(orders_total{app=\"{app}\"})"
                ),
            ]
        )
    }

    @Test func prometheusWrittenAsAMappingTakesATimeout() throws {
        let config = try ConfigFixtures.parse(
            yaml(
                analysis: "failFast: [{query: 'up', min: 1}]",
                controller: "prometheus: {url: \"http://127.0.0.1:9090/\", timeout: 2s}"
            )
        )
        #expect(config.controller.prometheus == PrometheusSpec(url: "http://127.0.0.1:9090/", timeout: .seconds(2)))
        #expect(config.apps[0].analysis.failFast.map(\.query) == ["up"])
    }

    @Test func aQueryCheckWithoutAPrometheusIsRefusedWhereItIsWritten() {
        let problems = ConfigFixtures.problems(
            ConfigFixtures.minimal + "\n    analysis:\n      checks: [{query: up, min: 1}]"
        )
        #expect(
            problems == [
                "slipway.yaml:9:24: apps[0].analysis.checks[0].query: a PromQL `query` needs `controller.prometheus`, "
                    + "the Prometheus to ask; none is configured"
            ]
        )
    }

    @Test func badQueryChecksSayWhatIsWrongAndWhere() {
        let problems = ConfigFixtures.problems(
            yaml(
                analysis: """
                    checks:
                      - {query: 'rate(x{v="{versoin}"}[1m])', max: 1}
                      - {query: up, max: 1, min: 0}
                      - {query: up}
                      - {query: up, max: "1%"}
                      - {query: "", max: 1}
                      - {check: "p99 <= 300ms", max: 1}
                    """
            )
        )
        #expect(
            problems == [
                "slipway.yaml:12:19: apps[0].analysis.checks[0].query: unknown placeholder `{versoin}`; did you mean "
                    + "`{version}`?",
                "slipway.yaml:13:31: apps[0].analysis.checks[1].min: `max` and `min` cannot both be set; write a "
                    + "range as two checks",
                "slipway.yaml:14:11: apps[0].analysis.checks[2]: expected exactly one of `max` or `min`, got neither",
                "slipway.yaml:15:28: apps[0].analysis.checks[3].max: expected a number like 0.01 or 250, got \"1%\"",
                "slipway.yaml:16:19: apps[0].analysis.checks[4].query: expected a PromQL query, got \"\"",
                "slipway.yaml:17:35: apps[0].analysis.checks[5].max: `max` is only for `query` checks",
            ]
        )
    }

    @Test func aQueryIsNotAMetricOfACheckText() {
        let problems = ConfigFixtures.problems(yaml(analysis: "checks: [\"query <= 1\"]"))
        #expect(
            problems == [
                "slipway.yaml:11:16: apps[0].analysis.checks[0]: unknown metric `query`; expected one of "
                    + "`successRate`, `errorRate`, `p50`, `p90`, `p95`, `p99`, `p999`, `requests`"
            ]
        )
    }

    @Test func prometheusMustBeAnHTTPURL() {
        let problems = ConfigFixtures.problems(
            yaml(
                analysis: "checks: [{query: up, min: 1}]",
                controller: "prometheus: {url: \"localhost:9090\", timeout: 0s}"
            )
        )
        #expect(
            problems == [
                "slipway.yaml:2:21: controller.prometheus.url: expected an http or https URL like "
                    + "http://127.0.0.1:9090, got \"localhost:9090\"",
                "slipway.yaml:2:48: controller.prometheus.timeout: expected a duration greater than 0, got \"0s\"",
            ]
        )
    }

    @Test func placeholdersAreFilledAndPromQLBracesKept() {
        let query = "sum(rate(x{version=\"{version}\",app=\"{app}\"}[{window}])) / {baseline} {unknown} {\"a\": 1}"
        let rendered = Placeholders.query.render(
            query,
            ["version": "2.0.0", "app": "shop", "window": "2s", "baseline": "1.0.0"]
        )
        #expect(rendered == "sum(rate(x{version=\"2.0.0\",app=\"shop\"}[2s])) / 1.0.0 {unknown} {\"a\": 1}")
        #expect(Placeholders.command.problems(in: "--port={port} {version}").isEmpty)
        #expect(
            Placeholders.command.problems(in: "{window}")
                == ["unknown placeholder `{window}`; the placeholders are `{port}`, `{version}` and `{release}`"]
        )
    }
}

extension String {
    fileprivate func indented(_ spaces: Int) -> String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }
            .joined(separator: "\n")
    }
}

/// `controller.tracing`: where spans go, how many new traces are kept, and in which encoding.
@Suite struct TracingConfigTests {
    @Test func tracingIsReadWithItsDefaults() throws {
        let config = try ConfigFixtures.parse(
            "controller:\n  tracing: {endpoint: \"http://127.0.0.1:4318/\"}\n" + ConfigFixtures.minimal
        )
        #expect(config.controller.tracing == TracingSpec(endpoint: "http://127.0.0.1:4318"))
        #expect(config.controller.tracing?.sampleRatio == Percentage(basisPoints: 1_000))
        let full = try ConfigFixtures.parse(
            """
            controller:
              tracing:
                endpoint: https://otel.example.com
                sampleRatio: 0.5%
                serviceName: shop-edge
                protocol: json

            """ + ConfigFixtures.minimal
        )
        #expect(
            full.controller.tracing
                == TracingSpec(
                    endpoint: "https://otel.example.com",
                    sampleRatio: Percentage(basisPoints: 50),
                    serviceName: "shop-edge",
                    wireFormat: .json
                )
        )
    }

    @Test func aWrongTracingSaysWhereAndWhatIsExpected() {
        let problems = ConfigFixtures.problems(
            """
            controller:
              tracing:
                sampleRatio: 150%
                serviceName: "shop edge"
                protocol: grpc
                exporter: otlp

            """ + ConfigFixtures.minimal
        )
        #expect(
            problems == [
                "slipway.yaml:3:5: controller.tracing: missing required key `endpoint`",
                #"slipway.yaml:3:18: controller.tracing.sampleRatio: expected a percentage from 0% to 100% like 10%, got "150%""#,
                #"slipway.yaml:4:18: controller.tracing.serviceName: expected a service name of letters, digits, `.`, `-` and `_`, got "shop edge""#,
                #"slipway.yaml:5:15: controller.tracing.protocol: expected protobuf or json, got "grpc""#,
                "slipway.yaml:6:5: controller.tracing.exporter: unknown key `exporter`; expected one of `endpoint`, `sampleRatio`, `serviceName`, `protocol`",
            ],
            "\(problems)"
        )
    }
}
