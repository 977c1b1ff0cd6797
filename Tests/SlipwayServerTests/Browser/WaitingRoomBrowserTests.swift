import Foundation
import NIOPosix
import SlipwayCore
import SlipwayProxy
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// The waiting page in a real headless Chromium: two visitors (each with a browser context of its own, as two
    /// people would be) arrive while the app's one slot is taken, see places 1 and 2, and are let in in that order.
    @Suite struct WaitingRoomBrowserTests {
        @Test(
            .enabled(
                if: BrowserRequirement.canRun,
                "needs /usr/bin/chromium (scripts/test installs it; SLIPWAY_REQUIRE_BROWSER=1 makes its absence fail)"
            )
        )
        func twoVisitorsBeyondCapacitySeeTheirPlacesAndAreLetInInOrder() async throws {
            let directory = try makeTemporaryDirectory("slipway-waiting-page")
            let demoPort = try LoopbackHTTP.freePort()
            let demo = try ServerProcess.spawn(
                [BuiltProducts.path("slipway-demo-app"), "--port", String(demoPort), "--version", "1.0.0"],
                log: directory + "/demo.log"
            )
            defer { ServerProcess.stop(demo) }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let room = WaitingRoomSettings(maxInFlight: 1, queueSize: 10, queueTimeoutMs: 30_000, pageRefreshMs: 1000)
            let listener = try await AppListener.bind(
                app: "shop",
                host: "127.0.0.1",
                port: 0,
                settings: ProxySettings(waitingRoom: room),
                group: group
            )
            listener.update(
                try RouteTable(versions: [
                    VersionRoute(
                        version: "1.0.0",
                        weight: 10_000,
                        instances: [
                            try UpstreamInstance(id: "shop-1", version: "1.0.0", host: "127.0.0.1", port: demoPort)
                        ]
                    )
                ])
            )
            try await waitUntil("the demo app serves") {
                (try? LoopbackHTTP.get(port: listener.port, path: "/healthz"))?.status == 200
            }
            var browser: HeadlessChromium?
            var pages: [BrowserPage] = []
            do {
                // The one slot is taken for 4 s.
                let slow = Task.detached { try LoopbackHTTP.get(port: listener.port, path: "/work?ms=4000") }
                try await Task.sleep(for: .milliseconds(300))
                browser = try await HeadlessChromium.launch()
                let first = try await BrowserPage.open(in: try #require(browser), isolated: true)
                let second = try await BrowserPage.open(in: try #require(browser), isolated: true)
                pages = [first, second]
                let url = "http://127.0.0.1:\(listener.port)/"
                try await first.navigate(to: url)
                let firstPlace = try await first.waitForValue(
                    "a place",
                    "document.getElementById('place')?.dataset.place"
                )
                try await second.navigate(to: url)
                let secondPlace = try await second.waitForValue(
                    "a place",
                    "document.getElementById('place')?.dataset.place"
                )
                #expect(firstPlace == .string("1"))
                #expect(secondPlace == .string("2"))
                let title = try await first.evaluate("document.title")
                #expect(title == .string("You are in line"))

                // Both are let in by the page asking again, the first visitor first.
                let served = "document.body.innerText.includes('\"version\"')"
                var admitted: [Int: ContinuousClock.Instant] = [:]
                let deadline = ContinuousClock.now + .seconds(30)
                while admitted.count < 2, ContinuousClock.now < deadline {
                    for (index, page) in pages.enumerated() where admitted[index] == nil {
                        if (try? await page.evaluate(served)) == .bool(true) { admitted[index] = .now }
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let firstIn = try #require(admitted[0], "the first visitor was let in")
                let secondIn = try #require(admitted[1], "the second visitor was let in")
                #expect(firstIn < secondIn)
                let slowStatus = try await slow.value.status
                #expect(slowStatus == 200)
                let state = try #require(await listener.sample().waitingRoom)
                #expect(state.admittedAfterWaiting >= 2)
            } catch {
                Issue.record(error)
            }
            for page in pages { await page.close() }
            browser?.stop()
            try await listener.close()
            try await group.shutdownGracefully()
        }
    }
}
