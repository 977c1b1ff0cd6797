import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayServer
import SlipwayStore
import SlipwayTestSupport
import Testing

/// Helpers for rollouts driven through a live in-process controller.
extension ControllerFixture {
    /// The port users hit.
    var port: Int { controller.listener(of: "shop")?.port ?? 0 }

    /// Waits until the app's stable instances all take traffic.
    func waitUntilServing(instances: Int = 3) async throws {
        try await waitUntil("\(instances) instances take traffic", timeout: .seconds(20)) {
            self.controller.listener(of: "shop")?.table.instances.count == instances
        }
    }

    /// Waits until the current rollout has ended and returns its summary.
    @discardableResult
    func waitForOutcome(timeout: Duration = .seconds(60)) async throws -> RolloutSummary {
        var summary: RolloutSummary?
        try await waitUntil("the rollout ends", timeout: timeout) {
            summary = try await self.controller.rollout(app: "shop")
            return summary?.isFinished == true
        }
        return try #require(summary)
    }

    /// Percent of traffic per version the listener's table gives now.
    var weights: [String: Int] {
        var result: [String: Int] = [:]
        for version in controller.listener(of: "shop")?.table.versions ?? [] {
            result[version.version] = version.weight
        }
        return result
    }

    /// The time of the first event of `kind`, as seconds since `date`.
    func seconds(of kind: EventKind, since date: Date) throws -> Double? {
        try events(kind).first.map { $0.time.timeIntervalSince(date) }
    }
}

/// The app config lines of the rollout tests: fast health checks, a short analysis interval.
enum RolloutConfig {
    static func app(strategy: String, analysis: String = defaultAnalysis, warmup: String = "") -> String {
        """
            strategy:
        \(strategy.indented(6))
            analysis:
        \(analysis.indented(6))
        \(warmup.isEmpty ? "" : "    warmup:\n" + warmup.indented(6))
        """
    }

    static let defaultAnalysis = """
        interval: 500ms
        minRequests: 10
        checks: ["successRate >= 99%"]
        failFast: ["successRate >= 95%"]
        """
}

extension String {
    func indented(_ spaces: Int) -> String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }
            .joined(separator: "\n")
    }
}

/// The suites that run rollouts with real processes under load, one at a time: each keeps a controller, its
/// instances and a load client busy, and timings are judged on a machine that is not running several at once.
@Suite(.serialized) struct LiveRollouts {}
