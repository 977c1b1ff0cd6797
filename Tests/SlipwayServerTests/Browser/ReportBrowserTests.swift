import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// A rollback's report, end to end: the stable version is the demo app, the candidate is Python's own
    /// `http.server`, which answers every POST with 501 and logs each request to standard error. The canary rolls
    /// back on its failed requests; its report is opened in headless Chromium from the link a notice would carry.
    @Suite struct ReportBrowserTests {
        static let token = "report-test-\(UUID().uuidString)"

        /// The repository's `docs/rollout-report.png`, written only when `SLIPWAY_UPDATE_SCREENSHOT=1`.
        static var screenshotPath: String {
            if ProcessInfo.processInfo.environment["SLIPWAY_UPDATE_SCREENSHOT"] == "1" {
                return URL(fileURLWithPath: #filePath)
                    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("docs/rollout-report.png").path
            }
            return FileManager.default.temporaryDirectory.appendingPathComponent("slipway-report-\(UUID()).png").path
        }

        /// Version 1.0.0 runs the demo app; a release with `IMPL=python` runs `python3 -m http.server`.
        static func config(apiPort: Int) -> String {
            let demo = BuiltProducts.path("slipway-demo-app")
            let command =
                #"[sh, -c, "if [ \"$IMPL\" = python ]; then exec python3 -m http.server {port} --bind 127.0.0.1; "#
                + #"else exec \#(demo) --port {port}; fi"]"#
            return ControllerFixture.demoConfig(
                instances: 2,
                command: command,
                extra: RolloutConfig.app(
                    strategy: """
                        canary:
                          steps:
                            - weight: 50
                            - pause: 60s
                        """,
                    analysis: """
                        interval: 1s
                        minRequests: 20
                        checks: ["successRate >= 99%"]
                        failFast: ["successRate >= 95%"]
                        """
                ),
                apiPort: apiPort
            )
            .replacingOccurrences(of: "path: /healthz", with: "path: /")
            .replacingOccurrences(
                of: "  stateDir: state\n",
                with: "  stateDir: state\n  token: {env: SLIPWAY_TEST_TOKEN}\n"
            )
        }

        @Test(
            .enabled(
                if: BrowserRequirement.canRun,
                "needs \(HeadlessChromium.path) (apt-get install chromium); set SLIPWAY_REQUIRE_BROWSER=1 to fail instead"
            )
        )
        func aRollbacksReportShowsWhatWasShippedWhatFailedAndWhy() async throws {
            setenv("SLIPWAY_TEST_TOKEN", Self.token, 1)
            let apiPort = try LoopbackHTTP.freePort()
            let fixture = try await ControllerFixture(yaml: Self.config(apiPort: apiPort))
            var loads: [LoadClient] = []
            var browser: HeadlessChromium?
            var page: BrowserPage?
            do {
                try await fixture.waitUntilServing(instances: 2)
                let reads = LoadClient(port: fixture.port, rate: 120, threads: 3)
                loads = [reads]
                await reads.waitFor(50)
                _ = try await fixture.controller.deploy(
                    app: "shop",
                    DeployRequest(
                        version: "2.0.0",
                        env: ["IMPL": "python"],
                        by: "ada@example",
                        reason: "checkout on the standard library",
                        release: ReleaseMetadata(
                            commit: "9b1d2e7",
                            build: "117",
                            source: "https://github.com/acme/shop/commit/9b1d2e7",
                            changes: "https://github.com/acme/shop/pull/88",
                            author: "Ada"
                        )
                    )
                )
                // The candidate serves reads well for a while; then orders come, which it cannot take.
                try await waitUntil("the canary at 50%", timeout: .seconds(30)) {
                    fixture.weights == ["1.0.0": 5_000, "2.0.0": 5_000]
                }
                try await Task.sleep(for: .seconds(6))
                loads.append(
                    LoadClient(port: fixture.port, rate: 40, threads: 2, path: "/orders?card=4111", method: "POST")
                )
                let outcome = try await fixture.waitForOutcome(timeout: .seconds(60))
                #expect(outcome.state == "rolledBack")
                // The candidate's standard error is kept once the verdict is final; the evidence a little longer.
                try await waitUntil("the candidate's stderr is recorded", timeout: .seconds(20)) {
                    try fixture.events(.instanceLogTail).count == 1
                }
                try await Task.sleep(for: .seconds(3))
                for load in loads { await load.stop() }
                try checkJSON(try ReportRoutes.report(fixture.controller, app: "shop", rollout: 1))

                browser = try await HeadlessChromium.launch()
                let tab = try await BrowserPage.open(in: try #require(browser), width: 1100, height: 900)
                page = tab
                try await check(tab, base: "http://127.0.0.1:\(apiPort)")
            } catch {
                Issue.record(error)
            }
            await page?.close()
            browser?.stop()
            for load in loads { await load.stop() }
            try await fixture.stop()
        }

        /// The facts behind the page.
        func checkJSON(_ report: RolloutReport) throws {
            #expect(report.record.outcome == "rolledBack")
            #expect(report.record.release?.commit == "9b1d2e7")
            #expect(report.candidates == ["2.0.0"])
            #expect(report.traffic.map(\.version) == ["1.0.0", "2.0.0"])
            let candidate = try #require(report.traffic.last)
            #expect(candidate.errors > 0 && candidate.points.count >= 3, "\(candidate)")
            // Healthy at first: the first points of the candidate have no 5xx.
            #expect(candidate.points.first?.errors == 0, "\(candidate.points)")
            #expect(report.decisions.contains { $0.kind == "analysis" && $0.verdict == "fail" })
            #expect(report.decisions.contains { $0.kind == "rollback" })
            let failure = try #require(report.failedRequests.first)
            #expect(failure.status == 501 && failure.method == "POST" && failure.version == "2.0.0")
            // Never the query: a card number in a URL stays out of the report.
            #expect(failure.path == "/orders")
            #expect(!failure.requestID.isEmpty)
            #expect(report.stderr.map(\.when) == ["verdict"])
            #expect(report.stderr.allSatisfy { output in output.lines.contains { $0.contains("501") } })
            #expect(report.timeline.contains { $0.kind == "rolloutRollingBack" && $0.alarming })
        }

        /// The page in the browser, from a notice's link through the sign-in.
        func check(_ page: BrowserPage, base: String) async throws {
            try await page.navigate(to: base + "/reports/shop/1")
            try await page.waitUntil(
                "the sign-in page, returning to the report",
                #"location.pathname === '/login' && !!document.querySelector('input[name="next"]')"#
            )
            let token = String(decoding: try JSONEncoder().encode(Self.token), as: UTF8.self)
            try await page.evaluate(
                """
                (() => { const field = document.querySelector('input[name="token"]');
                  field.value = \(token); field.form.submit(); return true; })()
                """
            )
            try await page.waitUntil("the report after signing in", "location.pathname === '/reports/shop/1'")
            try await page.waitUntil("the page is loaded", "!!document.querySelector('[data-testid=\"timeline\"]')")
            func text(_ selector: String) async throws -> String {
                try await page.evaluate("document.querySelector('\(selector)')?.textContent ?? ''").stringValue ?? ""
            }
            func count(_ selector: String) async throws -> Int {
                Int(try await page.evaluate("document.querySelectorAll('\(selector)').length").numberValue ?? -1)
            }
            #expect(try await text("[data-testid=\"outcome\"]") == "rolled back")
            #expect(try await text("[data-testid=\"why\"]").contains("fail-fast check failed"))
            // What was shipped, with its links.
            #expect(try await text("[data-testid=\"release\"] [data-field=\"commit\"]") == "9b1d2e7")
            #expect(
                try await text("[data-testid=\"release\"] [data-field=\"changes\"] a")
                    == "https://github.com/acme/shop/pull/88"
            )
            // Three charts, each with a line per version.
            for chart in ["chart-rps", "chart-errors", "chart-p99"] {
                #expect(try await count("#\(chart) polyline[data-version=\"1.0.0\"]") >= 1, "\(chart)")
                #expect(try await count("#\(chart) polyline[data-version=\"2.0.0\"]") >= 1, "\(chart)")
            }
            #expect(try await count("#chart-errors line.mark.alarm") >= 1)
            // The decision with its failing check.
            #expect(try await count("[data-testid=\"decisions\"] [data-verdict=\"fail\"] tr.fail") >= 1)
            // Failed requests: method and path (no query), 501, a request id.
            let rows = try await count("[data-testid=\"failed-requests\"] tr[data-request-id]")
            #expect(rows >= 1)
            let row = try await text("[data-testid=\"failed-requests\"] tbody tr")
            #expect(row.contains("POST /orders") && row.contains("501") && !row.contains("4111"), "\(row)")
            // The candidate instance's standard error, as Python wrote it.
            #expect(try await count("[data-testid=\"stderr\"] pre") == 1)
            #expect(try await text("[data-testid=\"stderr\"] pre").contains("Unsupported method"))
            #expect(try await count("[data-testid=\"timeline\"] tr[data-kind=\"rolloutRollingBack\"]") == 1)
            // Self-contained: no script and nothing loaded from elsewhere.
            #expect(try await count("script, link, img, iframe") == 0)

            let screenshot = try await page.screenshot(fullPage: true)
            #expect(screenshot.isPNG)
            let path = Self.screenshotPath
            try screenshot.write(to: URL(fileURLWithPath: path))
            print("rollout report screenshot: \(path)")
            #expect(page.connection.consoleErrors.isEmpty, "page errors: \(page.connection.consoleErrors)")
        }
    }
}
