import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

/// `slipway report` reads the state directory: it works with no controller running.
@Suite struct ReportCommandTests {
    /// A state directory holding the events of ``RolloutReportTests/events``, and a config naming it.
    static func stateDirectory() throws -> String {
        let directory = try makeTemporaryDirectory()
        let log = try EventLog(directory: directory + "/state")
        _ = try log.append(RolloutReportTests.events.map(\.event))
        try """
        controller:
          api: 127.0.0.1:7171
          stateDir: state
        apps:
          - name: shop
            listen: 127.0.0.1:0
            instances: 1
            version: "1.0.0"
            run: {command: [sleep, "1000"]}
        """.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test func printsWhereTheReportIsAndWritesItsPage() async throws {
        let directory = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let newest = try await SlipwayBinary.run(["report", "shop", "-o", "report.html"], in: directory)
        #expect(newest.status == 0, "\(newest.stderr)")
        #expect(
            newest.stdout == """
                rollout #2 of shop: 1.0.0 → 2.0.0, rolled back
                why: check failed
                report: http://127.0.0.1:7171/reports/shop/2
                json:   /api/v1/apps/shop/rollouts/2/report
                page written to report.html

                """
        )
        let page = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        #expect(
            page.hasPrefix("<!doctype html>") && page.contains("going back to")
                && page.contains("No traffic was recorded")
        )

        let first = try await SlipwayBinary.run(
            ["report", "shop", "1", "--json", "--state-dir", "state"],
            in: directory
        )
        #expect(first.status == 0, "\(first.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(json["rollout"] as? Int == 1)
        #expect((json["record"] as? [String: Any])?["outcome"] as? String == "promoted")
    }

    @Test func anUnknownRolloutExitsTwoNamingTheKnownOnes() async throws {
        let directory = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await SlipwayBinary.run(["report", "shop", "9"], in: directory)
        #expect(run.status == 2)
        #expect(run.stderr.contains("\"shop\" has no rollout #9 (its rollouts are #1 to #2)"), "\(run.stderr)")
        let zero = try await SlipwayBinary.run(["report", "shop", "0"], in: directory)
        #expect(zero.status == 2 && zero.stderr.contains("ROLLOUT is a rollout number from 1, got 0"))
    }
}
