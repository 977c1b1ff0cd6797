import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayProxy
import SlipwayServer
import SlipwayTestSupport
import Testing

/// Whether this machine can run the browser test: Chromium is installed, or the run demands it (then a missing
/// browser fails the test instead of skipping it, so a CI run never passes by skipping).
enum BrowserRequirement {
    static let demanded = ProcessInfo.processInfo.environment["SLIPWAY_REQUIRE_BROWSER"].map { !$0.isEmpty } ?? false
    static let canRun = HeadlessChromium.isInstalled || demanded
}

extension LiveRollouts {
    /// The dashboard in a real headless Chromium against a real controller: sign in, watch a canary held at 25%,
    /// abort it from the page, see the traffic go back.
    @Suite struct DashboardBrowserTests {
        static let token = "dashboard-test-\(UUID().uuidString)"

        static let canary = """
            canary:
              steps:
                - weight: 25
                - pause: {}
            """

        /// The repository's `docs/dashboard.png`, written only when `SLIPWAY_UPDATE_SCREENSHOT=1`.
        static var screenshotPath: String {
            if ProcessInfo.processInfo.environment["SLIPWAY_UPDATE_SCREENSHOT"] == "1" {
                return URL(fileURLWithPath: #filePath)
                    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent("docs/dashboard.png").path
            }
            return FileManager.default.temporaryDirectory.appendingPathComponent("slipway-dashboard-\(UUID()).png").path
        }

        @Test(
            .enabled(
                if: BrowserRequirement.canRun,
                "needs \(HeadlessChromium.path) (apt-get install chromium); set SLIPWAY_REQUIRE_BROWSER=1 to fail instead"
            )
        )
        func aCanaryIsWatchedAndAbortedFromTheDashboard() async throws {
            setenv("SLIPWAY_TEST_TOKEN", Self.token, 1)
            let apiPort = try LoopbackHTTP.freePort()
            let yaml = ControllerFixture.demoConfig(
                extra: RolloutConfig.app(strategy: Self.canary),
                apiPort: apiPort
            )
            .replacingOccurrences(
                of: "  stateDir: state\n",
                with: "  stateDir: state\n  token: {env: SLIPWAY_TEST_TOKEN}\n"
            )
            let fixture = try await ControllerFixture(yaml: yaml)
            var load: LoadClient?
            var browser: HeadlessChromium?
            var page: BrowserPage?
            do {
                try await fixture.waitUntilServing()
                let client = LoadClient(port: fixture.port)
                load = client
                await client.waitFor(100)
                _ = try await fixture.controller.deploy(
                    app: "shop",
                    DeployRequest(
                        version: "2.0.0",
                        by: "test",
                        release: ReleaseMetadata(
                            commit: "3f2c9e1",
                            build: "42",
                            source: "https://github.com/acme/shop/commit/3f2c9e1"
                        )
                    )
                )
                try await waitUntil("the canary holds at 25%", timeout: .seconds(30)) {
                    let summary = try await fixture.controller.rollout(app: "shop")
                    return summary?.stepDescription == "pause until promote"
                        && fixture.weights == ["1.0.0": 7_500, "2.0.0": 2_500]
                }
                browser = try await HeadlessChromium.launch()
                let tab = try await BrowserPage.open(in: try #require(browser))
                page = tab
                try await check(tab, apiPort: apiPort, fixture: fixture)
            } catch {
                Issue.record(error)
            }
            // Always, and each bounded: the page's connection, the browser's process group, the load, the controller.
            await page?.close()
            browser?.stop()
            await load?.stop()
            try await fixture.stop()
        }

        /// The steps in the browser, from signing in to the rollback.
        func check(_ page: BrowserPage, apiPort: Int, fixture: ControllerFixture) async throws {
            let base = "http://127.0.0.1:\(apiPort)"
            let shop = #"[data-app="shop"]"#
            let weights = """
                [...document.querySelectorAll('\(shop) [data-testid="weights"] [data-version]')]
                  .map((e) => e.dataset.version + '=' + e.dataset.weight).join(',')
                """

            // Not signed in: the dashboard sends the browser to the sign-in page.
            try await page.navigate(to: base + "/")
            try await page.waitUntil(
                "the sign-in page",
                #"location.pathname === '/login' && !!document.querySelector('input[name="token"]')"#
            )
            let token = String(decoding: try JSONEncoder().encode(Self.token), as: UTF8.self)
            try await page.evaluate(
                """
                (() => { const field = document.querySelector('input[name="token"]');
                  field.value = \(token); field.form.submit(); return true; })()
                """
            )

            // Both versions with their weights, the candidate's instance healthy, the rollout's events.
            try await page.waitUntil("the dashboard after signing in", "location.pathname === '/'")
            try await page.waitUntil("both versions at 75/25", "(\(weights)) === '1.0.0=75,2.0.0=25'")
            try await page.waitUntil(
                "a healthy candidate instance",
                "!!document.querySelector('\(shop) [data-instance-version=\"2.0.0\"][data-state=\"healthy\"]')"
            )
            for kind in ["rolloutStarted", "trafficShifted", "rolloutStepStarted"] {
                try await page.waitUntil(
                    "\(kind) in the timeline",
                    "!!document.querySelector('\(shop) [data-testid=\"timeline\"] [data-kind=\"\(kind)\"]')"
                )
            }
            let summary = try #require(try await fixture.controller.rollout(app: "shop"))
            let step = try await page.evaluate(
                "document.querySelector('\(shop) [data-testid=\"rollout-step\"]').textContent"
            )
            #expect(step.stringValue == "step \(summary.step + 1)/\(summary.steps): pause until promote")
            // What the rollout ships, with its source as a link.
            let release = try await page.evaluate(
                "document.querySelector('\(shop) [data-testid=\"rollout-release\"]').textContent"
            )
            #expect(release.stringValue == "commit 3f2c9e1 · build 42 · source", "\(release)")
            let link = try await page.evaluate(
                "document.querySelector('\(shop) [data-testid=\"rollout-release\"] a').href"
            )
            #expect(link.stringValue == "https://github.com/acme/shop/commit/3f2c9e1")
            // Enough metric points for the charts to draw lines, then the picture mid-canary.
            try await page.waitUntil(
                "ten seconds of metrics in the charts",
                "Number(document.querySelector('\(shop) [data-testid=\"chart-rps\"]')?.dataset.points) >= 10",
                timeout: .seconds(30)
            )
            let screenshot = try await page.screenshot()
            #expect(screenshot.isPNG)
            #expect(screenshot.pngSize?.width == 1280, "screenshot size \(String(describing: screenshot.pngSize))")
            let path = Self.screenshotPath
            try screenshot.write(to: URL(fileURLWithPath: path))
            print("dashboard screenshot: \(path)")

            // Abort from the page: the confirmation is accepted, the command carries the CSRF token.
            try await page.evaluate("document.querySelector('\(shop) [data-action=\"abort\"]').click(); true")
            let dialogs = page.connection.dialogs
            #expect(dialogs.count == 1 && dialogs.first?.type == "confirm", "dialogs: \(dialogs)")
            #expect(dialogs.first?.message.contains("Abort") == true)
            try await page.waitUntil("all traffic back on 1.0.0", "(\(weights)) === '1.0.0=100'", timeout: .seconds(30))
            for kind in ["rolloutRollingBack", "rolloutFinished"] {
                try await page.waitUntil(
                    "\(kind) in the timeline",
                    "!!document.querySelector('\(shop) [data-testid=\"timeline\"] [data-kind=\"\(kind)\"]')",
                    timeout: .seconds(30)
                )
            }
            let reply = try await page.evaluate(
                "document.querySelector('\(shop) [data-testid=\"action-result\"]').dataset.outcome"
            )
            #expect(reply == "ok")

            let outcome = try await fixture.waitForOutcome()
            #expect(outcome.state == "aborted")
            #expect(fixture.weights == ["1.0.0": 10_000])

            // A running experiment and a fault in force show in the chaos panel; the stop button removes the fault
            // and holds all chaos.
            _ = try await fixture.controller.recordExperiment(
                ExperimentRecord(
                    title: "game day",
                    status: "running",
                    deviated: false,
                    reason: nil,
                    durationMs: 0,
                    apps: ["shop"],
                    journal: .object([:]),
                    by: "ana",
                    id: "run-1"
                )
            )
            try await page.waitUntil(
                "the running experiment in the chaos panel",
                "document.querySelector('[data-testid=\"chaos-experiments\"]').textContent.includes('game day')"
            )
            let fault = try await fixture.controller.addFault(
                app: "shop",
                FaultRequest(
                    fault: FaultSpec(
                        id: "new",
                        kind: .abort,
                        status: 503,
                        share: 10_000,
                        pathPrefix: "/nowhere",
                        expiresAtMs: 0
                    ),
                    by: "test",
                    reason: "browser test"
                )
            )
            let faultItem = #"[data-testid="chaos-faults"] li[data-id="\#(fault.id)"]"#
            try await page.waitUntil("the fault in the chaos panel", "!!document.querySelector('\(faultItem)')")
            let faultText = try await page.evaluate("document.querySelector('\(faultItem)').textContent")
            #expect(faultText.stringValue?.contains("abort 503 on 100% of /nowhere*") == true, "\(faultText)")
            try await page.evaluate("document.querySelector('[data-action=\"chaos-stop\"]').click(); true")
            #expect(page.connection.dialogs.last?.message.contains("Stop all chaos?") == true)
            try await page.waitUntil(
                "chaos stopped in the panel",
                "document.querySelector('[data-testid=\"chaos\"]').dataset.stopped === 'true' "
                    + "&& !document.querySelector('\(faultItem)')"
            )
            let chaos = try await fixture.controller.chaosStatus()
            #expect(chaos.stopped != nil && chaos.faults.isEmpty)
            #expect(page.connection.consoleErrors.isEmpty, "page errors: \(page.connection.consoleErrors)")
        }

        @Test(
            .enabled(
                if: BrowserRequirement.canRun,
                "needs \(HeadlessChromium.path) (apt-get install chromium); set SLIPWAY_REQUIRE_BROWSER=1 to fail instead"
            )
        )
        func anABTestsReportIsShownAndItsWinnerPromotedFromTheDashboard() async throws {
            let apiPort = try LoopbackHTTP.freePort()
            let fixture = try await ControllerFixture(
                yaml: ABTestRolloutTests.config(
                    apiPort: apiPort,
                    experiment: "goals: [{outcome: converted}]",
                    conversionRate: "0.1"
                )
            )
            var load: LoadClient?
            var browser: HeadlessChromium?
            var page: BrowserPage?
            do {
                try await fixture.waitUntilServing(instances: 2)
                let client = LoadClient(port: fixture.port)
                load = client
                await client.waitFor(100)
                _ = try await fixture.controller.deploy(
                    app: "shop",
                    DeployRequest(version: "2.0.0", env: ["DEMO_CONVERSION_RATE": "0.25"], by: "test")
                )
                browser = try await HeadlessChromium.launch()
                let tab = try await BrowserPage.open(in: try #require(browser))
                page = tab
                let shop = #"[data-app="shop"]"#
                try await tab.navigate(to: "http://127.0.0.1:\(apiPort)/")
                try await tab.waitUntil(
                    "the experiment's verdict on the page",
                    "document.querySelector('\(shop) [data-testid=\"experiment-summary\"]')?.textContent"
                        + ".startsWith('B better on converted') === true",
                    timeout: .seconds(60)
                )
                let badge = try await tab.evaluate(
                    "document.querySelector('\(shop) [data-testid=\"experiment\"] .experiment-verdict').dataset.verdict"
                )
                #expect(badge == "better")
                let points = try await tab.evaluate(
                    "Number(document.querySelector('\(shop) [data-testid=\"experiment-chart\"]').dataset.points)"
                )
                #expect((points.numberValue ?? 0) >= 1)
                let variants = try await tab.evaluate(
                    "document.querySelectorAll('\(shop) [data-testid=\"experiment\"] [data-variant]').length"
                )
                #expect(variants.numberValue == 2)
                try await tab.evaluate("document.querySelector('\(shop) [data-action=\"promote\"]').click(); true")
                let outcome = try await fixture.waitForOutcome(timeout: .seconds(30))
                #expect(outcome.state == "promoted")
                #expect(tab.connection.consoleErrors.isEmpty, "page errors: \(tab.connection.consoleErrors)")
            } catch {
                Issue.record(error)
            }
            await page?.close()
            browser?.stop()
            await load?.stop()
            try await fixture.stop()
        }
    }
}
