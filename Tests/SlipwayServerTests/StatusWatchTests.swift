import Foundation
import SlipwayServer
import Testing

@testable import slipway

/// The pieces of `slipway status APP --watch` that need no controller.
@Suite struct StatusWatchTests {
    @Test func theParserSplitsEventsAcrossChunksAndSkipsComments() {
        var parser = EventStreamParser()
        #expect(parser.feed(": keep-alive\n\nid: 7\nevent: rollout").isEmpty)
        let events = parser.feed("Started\ndata: {\"a\":1}\ndata: more\n\nid: 8\r\ndata: x\r\n\r\n")
        #expect(
            events == [
                .init(id: "7", name: "rolloutStarted", data: "{\"a\":1}\nmore"),
                .init(id: "8", name: nil, data: "x"),
            ]
        )
    }

    @Test func theViewShowsWeightsTrafficInstancesStepAndDecision() {
        let view = StatusWatch.AppView(
            name: "shop",
            listen: "127.0.0.1:8080",
            stable: "1.0.0",
            desiredInstances: 3,
            instances: [
                .init(id: "shop-1", version: "1.0.0", state: "healthy"),
                .init(id: "shop-4", version: "2.0.0", state: "starting"),
            ],
            weights: ["1.0.0": 75, "2.0.0": 25],
            rollout: RolloutSummary(
                rollout: 3,
                app: "shop",
                from: "1.0.0",
                to: "2.0.0",
                strategy: "canary",
                state: "running",
                step: 4,
                steps: 12,
                stepDescription: "analysis (3 windows)",
                weights: ["1.0.0": 75, "2.0.0": 25],
                reason: "analysis: 1 of 3 windows passed"
            ),
            lastDecision: "pass: successRate >= 99%: 100% over 61 requests (pass)"
        )
        let metrics = StatusWatch.Metrics(points: [
            .init(versions: [
                "1.0.0": .init(rps: 150, errorRate: 0, p99Ms: 4),
                "2.0.0": .init(rps: 50, errorRate: 0.02, p99Ms: 6),
            ])
        ])
        let text = StatusWatch.render(view, metrics: metrics, width: 20)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "shop  stable 1.0.0  on 127.0.0.1:8080  1/3 healthy")
        #expect(lines[1] == "  1.0.0      ███████████████░░░░░  75.0%    150.0 req/s  err  0.00%  p99 4ms")
        #expect(lines[2] == "  2.0.0      █████░░░░░░░░░░░░░░░  25.0%     50.0 req/s  err  2.00%  p99 6ms")
        #expect(lines[3] == "  instances: shop-1 1.0.0 healthy · shop-4 2.0.0 starting")
        #expect(lines[4] == "  rollout #3 1.0.0 → 2.0.0 (canary): running, step 5/12: analysis (3 windows)")
        #expect(lines[5] == "  waiting: analysis: 1 of 3 windows passed")
        #expect(lines[6] == "  last decision: pass: successRate >= 99%: 100% over 61 requests (pass)")
    }

    @Test func watchNeedsAnApp() {
        #expect(throws: (any Error).self) { try StatusCommand.parse(["--watch"]) }
        #expect(throws: (any Error).self) { try StatusCommand.parse(["shop", "--url", "http://127.0.0.1:1"]) }
        #expect((try? StatusCommand.parse(["shop", "--watch"])) != nil)
    }
}
