import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveRollouts {
    /// Programs nobody here wrote, and one that logs like them, keep serving and keep being logged while no
    /// controller runs; a killed data plane comes back fast; an instance that ends while no controller runs has its
    /// real exit status recorded.
    @Suite struct ServiceOutlivesControllerTests {
        static func program(_ command: String, health: String) -> String {
            """
            instances: 2
            version: "1.0.0"
            run:
              command: \(command)
              stopGracePeriod: 5s
            health:
              path: \(health)
              interval: 200ms
              timeout: 150ms
              startDeadline: 15s
            strategy:
              canary:
                steps:
                  - weight: 50
                  - pause: 3s
            analysis:
              interval: 500ms
              minRequests: 10
              checks: ["successRate >= 99%"]
            """
        }

        static func lines(_ path: String) -> Int {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
        }

        @Test(arguments: ["access-log-server", "python-http-server"])
        func aCanaryOfARealServerSurvivesAControllerKill(program: String) async throws {
            let app: String
            if program == "python-http-server" {
                app = Self.program("[python3, -m, http.server, \"{port}\", --bind, 127.0.0.1]", health: "/")
            } else {
                app = Self.program("[python3, \(Fixtures.path("access-log-server.py"))]", health: "/health")
            }
            let service = try LiveService(app: app)
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let load = LoadClient(port: service.listen, rate: 220)
            await load.waitFor(100)
            #expect(try await service.slipway(["deploy", "shop", "--version", "2.0.0"]).status == 0)
            try await waitUntil("the canary takes half", timeout: .seconds(30)) {
                try service.status()?.rollout?.stepDescription.hasPrefix("pause") == true
            }
            let logs = service.directory + "/state/logs/shop"
            let candidate = try #require(
                try service.events(.instanceStarted).last { $0.fields["role"] == "candidate" }?.instance
            )
            service.killController()
            // Its output goes on into the supervisor's files while nothing else runs.
            let before = Self.lines("\(logs)/\(candidate).err.log")
            await load.waitFor(300)
            let after = Self.lines("\(logs)/\(candidate).err.log")
            #expect(after > before + 50, "the candidate logged \(after - before) lines while no controller ran")
            try service.startController()
            let state = try await service.waitForRolloutEnd()
            await load.waitFor(100)
            await load.stop()
            #expect(state == "promoted")
            #expect(
                load.failed.isEmpty,
                "\(program): \(load.failed.count) of \(load.all.count) failed: \(load.failed.prefix(3))"
            )
            print("\(program): controller killed mid-canary, \(load.failed.count) of \(load.all.count) failed")
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func aKilledDataPlaneServesAgainWithinASecond() async throws {
            let service = try LiveService(app: LiveService.demoApp())
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 3)
            let load = LoadClient(port: service.listen)
            await load.waitFor(200)
            let first = try #require(service.dataPlanePid)
            let killedAt = Date().timeIntervalSince(load.began)
            kill(first, SIGKILL)
            try await waitUntil("a new data plane", timeout: .seconds(10), interval: .milliseconds(10)) {
                service.dataPlanePid.map { $0 != first } ?? false
            }
            await load.waitFor(400)
            await load.stop()
            let failed = load.failed
            let servingAgain = load.all.first { $0.at > killedAt && $0.status == 200 && $0.at > (failed.last?.at ?? 0) }
            let downFor = (servingAgain?.at ?? 99) - killedAt
            print(
                "data plane kill: \(failed.count) of \(load.all.count) requests failed, "
                    + "serving again \(String(format: "%.3f", downFor)) s after the kill"
            )
            #expect(downFor < 1.0)
            // Only requests in flight at the kill, and connections refused until the new one bound the port.
            #expect(failed.count <= 40)
            #expect(failed.allSatisfy { $0.at >= killedAt - 0.01 && $0.at < killedAt + 1.0 })
            #expect(try service.routesServed() == ["shop-1", "shop-2", "shop-3"])
            #expect(try service.events(.dataPlaneLost).count == 1)
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func anInstanceThatEndedWhileNoControllerRanHasItsRealStatus() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 2))
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let victim = try #require(try service.events(.instanceStarted).first)
            let pid = Int32(try #require(victim.fields["pid"]?.intValue))
            service.killController()
            kill(pid, SIGKILL)
            try await waitUntil("the instance is gone") { !processExists(pid) }
            try service.startController()
            try await waitUntil("its exit is recorded") {
                try service.events(.instanceExited).contains { $0.instance == victim.instance }
            }
            let exit = try #require(try service.events(.instanceExited).first { $0.instance == victim.instance })
            #expect(exit.fields["status"] == "signal 9 (SIGKILL)")
            try await service.waitUntilServing(instances: 2)
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }
    }
}

extension LiveService {
    /// The instance ids the data plane routes `shop` to, from its saved route state.
    func routesServed() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state/dataplane.routes.json"))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let listeners = object?["listeners"] as? [String: Any]
        let shop = listeners?["shop"] as? [String: Any]
        let routes = shop?["routes"] as? [String: Any]
        let versions = routes?["versions"] as? [[String: Any]] ?? []
        return versions.flatMap { ($0["instances"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
            .sorted()
    }
}
