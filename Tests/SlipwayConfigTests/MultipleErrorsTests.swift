import SlipwayConfig
import Testing

@Suite("Several errors at once")
struct MultipleErrorsTests {
    @Test func everyProblemIsReportedInFileOrder() throws {
        let yaml = """
            controller:
              api: localhost
              stateDirectory: .slipway
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                instances: 0
                version: "1.0.0"
                run:
                  command: [shop-server, --port, "{prot}"]
                health: { interval: 1s, timeout: 5s }
              - name: shop
                instances: 2
                version: "2.0.0"
                strategy: canary
                run: { command: [shop-server] }
                logs: { keep: many }
            """
        let errors: ConfigErrors
        do {
            _ = try ConfigFixtures.parse(yaml)
            Issue.record("expected errors")
            return
        } catch {
            errors = error
        }
        #expect(errors.diagnostics.count == 9)
        #expect(
            errors.diagnostics.map(\.keyPath) == [
                "controller.api",
                "controller.stateDirectory",
                "apps[0].instances",
                "apps[0].run.command[2]",
                "apps[0].health.timeout",
                "apps[1]",
                "apps[1].name",
                "apps[1].strategy",
                "apps[1].logs.keep",
            ]
        )
        let positions = errors.diagnostics.map { "\($0.line):\($0.column)" }
        #expect(positions == ["2:8", "3:3", "7:16", "10:38", "11:38", "12:5", "12:11", "15:15", "17:19"])
        #expect(errors.description.split(separator: "\n").count == 9)
        #expect(
            errors.description.hasPrefix(
                "slipway.yaml:2:8: controller.api: expected a host:port address like 127.0.0.1:8080, got \"localhost\"; "
                    + "the port is missing\nslipway.yaml:3:3: controller.stateDirectory: unknown key `stateDirectory`; "
                    + "expected one of `api`, `stateDir`, `token`, `proxyThreads`, `dashboardURL`, `prometheus`, `tracing`\n"
            )
        )
    }

    @Test func diagnosticsAreSortedByLineThenColumn() {
        let file = "f.yaml"
        let errors = ConfigErrors([
            ConfigDiagnostic(file: file, location: SourceLocation(line: 3, column: 1), keyPath: "c", message: "m"),
            ConfigDiagnostic(file: file, location: SourceLocation(line: 1, column: 9), keyPath: "b", message: "m"),
            ConfigDiagnostic(file: file, location: SourceLocation(line: 1, column: 2), keyPath: "a", message: "m"),
            ConfigDiagnostic(file: file, location: SourceLocation(line: 1, column: 2), keyPath: "a2", message: "m"),
        ])
        #expect(errors.diagnostics.map(\.keyPath) == ["a", "a2", "b", "c"])
    }

    @Test func diagnosticDescriptions() {
        let located = ConfigDiagnostic(
            file: "slipway.yaml",
            location: SourceLocation(line: 12, column: 15),
            keyPath: "apps[0].health.interval",
            message: "expected a duration like 250ms, 2s or 1m30s, got \"fast\""
        )
        #expect(
            located.description
                == "slipway.yaml:12:15: apps[0].health.interval: expected a duration like 250ms, 2s or 1m30s, got \"fast\""
        )
        let wholeFile = ConfigDiagnostic(
            file: "slipway.yaml",
            location: SourceLocation(line: 0, column: 0),
            keyPath: "",
            message: "cannot read: x"
        )
        #expect(wholeFile.description == "slipway.yaml: cannot read: x")
    }
}
