import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// `slipway chaos` against a real controller whose app is `python3 -m http.server`: faults added, applied,
    /// ended by their time and their bound, stopped and released, and kept across a `kill -9` of the controller.
    @Suite struct ChaosCommandTests {
        @Test func faultsAreAddedAppliedEndedStoppedAndSurviveTheControllersDeath() async throws {
            let site = try LiveService.staticSite("slipway-chaos-site")
            let service = try LiveService(
                app: """
                    instances: 2
                    version: "1.0.0"
                    run:
                      command: \(LiveService.httpServerCommand(site: site))
                    health:
                      path: /
                      interval: 500ms
                      healthyThreshold: 1
                      startDeadline: 15s
                    chaos:
                      monkey: {leashed: true, meanTimeBetweenKillsInWorkDays: 3}
                    """,
                prefix: "slipway-chaos"
            )
            let left = try await service.running { try await run($0) }
            #expect(left.isEmpty, "still running after the test: \(left)")
        }

        private func get(_ service: LiveService, _ path: String = "/") throws -> (status: Int, seconds: Double) {
            let started = Date()
            let reply = try LoopbackHTTP.get(port: service.listen, path: path)
            return (reply.status, Date().timeIntervalSince(started))
        }

        private func run(_ service: LiveService) async throws {
            try service.startController()
            try await service.waitUntilServing(instances: 2)

            // Bad input is refused, naming what is wrong, and changes nothing.
            var run = try await service.slipway(["chaos", "fault", "add", "shop", "--abort", "200"])
            #expect(run.status == 2 && run.stderr.contains("\"status\": 200 is out of range"), "\(run.stderr)")
            run = try await service.slipway(["chaos", "fault", "add", "shop", "--abort", "503", "--reset"])
            #expect(run.status == 2 && run.stderr.contains("exactly one of"), "\(run.stderr)")
            run = try await service.slipway(["chaos", "fault", "add", "nope", "--reset"])
            #expect(run.status == 2 && run.stderr.contains("no app named \"nope\""), "\(run.stderr)")
            #expect(try service.events(.faultAdded).isEmpty)

            // An abort on one path, for two seconds.
            run = try await service.slipway(
                [
                    "chaos", "fault", "add", "shop", "--abort", "503", "--path", "/missing", "--for", "2s", "--reason",
                    "drill",
                ]
            )
            #expect(
                run.status == 0 && run.stdout.hasPrefix("added f1 to shop: abort 503 on 100% of /missing*"),
                "\(run)"
            )
            #expect(try get(service, "/missing").status == 503)
            #expect(try get(service, "/").status == 200)
            let added = try #require(try service.events(.faultAdded).first)
            #expect(added.fields["by"]?.stringValue?.isEmpty == false && added.fields["reason"] == "drill")

            // A delay bounded to two requests.
            run = try await service.slipway([
                "chaos", "fault", "add", "shop", "--delay", "300ms", "--max-requests", "2",
            ])
            #expect(run.status == 0, "\(run)")
            run = try await service.slipway(["chaos", "status"])
            #expect(run.status == 0 && run.stdout.contains("f2") && run.stdout.contains("delay 300ms"), "\(run)")
            #expect(
                run.stdout.contains(
                    "monkey of shop: kill, one per 3 work days on average (at least 1 apart), "
                        + "Mon-Fri 09:00–15:00 (UTC), leashed"
                ),
                "\(run.stdout)"
            )
            let delays = try (0..<3).map { _ in try get(service).seconds }
            #expect(delays[0] >= 0.3 && delays[1] >= 0.3 && delays[2] < 0.25, "\(delays)")

            // Both end by themselves, and the log says why.
            try await waitUntil("f1 expired and f2 spent", timeout: .seconds(10)) {
                try service.events(.faultRemoved).count == 2
            }
            let ended = try service.events(.faultRemoved).map {
                "\($0.fields["id"]?.stringValue ?? "?") \($0.fields["reason"]?.stringValue ?? "?")"
            }
            #expect(Set(ended) == ["f1 expired", "f2 reachedItsBound"])
            #expect(try get(service, "/missing").status == 404)

            // A stop clears everything at once and refuses more until released.
            run = try await service.slipway(["chaos", "fault", "add", "shop", "--abort", "500"])
            #expect(run.status == 0, "\(run)")
            #expect(try get(service).status == 500)
            run = try await service.slipway(["chaos", "stop", "--reason", "pager went off"])
            #expect(run.status == 0, "\(run)")
            #expect(try get(service).status == 200)
            run = try await service.slipway(["chaos", "fault", "add", "shop", "--reset"])
            #expect(run.status == 1 && run.stderr.contains("chaos is stopped"), "\(run.stderr)")
            run = try await service.slipway(["chaos", "status", "--json"])
            #expect(run.stdout.contains("\"stopped\""), "\(run.stdout)")
            #expect(try await service.slipway(["chaos", "release"]).status == 0)

            // A fault outlives the controller: the data plane keeps applying it, and a new controller knows it.
            run = try await service.slipway(["chaos", "fault", "add", "shop", "--abort", "502", "--path", "/gone"])
            #expect(run.status == 0 && run.stdout.hasPrefix("added f4"), "\(run)")
            service.killController()
            #expect(try get(service, "/gone").status == 502)
            try service.startController()
            try await waitUntil("the controller answers", timeout: .seconds(20)) {
                (try? await service.slipway(["chaos", "status"]))?.stdout.contains("f4") == true
            }
            run = try await service.slipway(["chaos", "fault", "remove", "shop", "f4"])
            #expect(run.status == 0 && run.stdout.hasPrefix("removed f4 from shop after 1 requests"), "\(run)")
            #expect(try get(service, "/gone").status == 404)
        }
    }
}
