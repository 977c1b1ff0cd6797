import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayStore
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// `kill -9` of the controller in the middle of a canary, then a restart: the same rollout carries on.
    @Suite struct CrashRecoveryTests {
        final class Controller {
            let process = Process()
            let directory: String

            init(directory: String) throws {
                self.directory = directory
                process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
                process.arguments = ["up", "-f", "slipway.yaml"]
                process.currentDirectoryURL = URL(fileURLWithPath: directory)
                let log = directory + "/up-\(UUID().uuidString.prefix(6)).log"
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
            }

            /// SIGTERM (it stops its instances), SIGKILL only if it hangs.
            func stop() {
                guard process.isRunning else { return }
                kill(process.processIdentifier, SIGTERM)
                let deadline = Date().addingTimeInterval(20)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }

        /// The app's status from the log; nil until the controller has created it.
        func status(in directory: String) throws -> AppStatus? {
            guard let log = try? EventLog(directory: directory + "/state", create: false) else { return nil }
            return AppStatus.fold(app: "shop", events: try log.events(app: "shop", limit: .max))
        }

        func slipway(_ arguments: [String], in directory: String) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        @Test func aRestartedControllerCarriesTheSameCanaryToTheSameOutcome() async throws {
            let directory = try makeTemporaryDirectory("slipway-crash")
            let listen = try LoopbackHTTP.freePort()
            let api = try LoopbackHTTP.freePort()
            var yaml = ControllerFixture.demoConfig(
                extra: RolloutConfig.app(
                    strategy: """
                        canary:
                          steps:
                            - weight: 25
                            - pause: 5s
                            - weight: 50
                            - pause: 1s
                        """
                ),
                apiPort: api
            )
            yaml = yaml.replacingOccurrences(of: "listen: 127.0.0.1:0", with: "listen: 127.0.0.1:\(listen)")
            try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)

            let first = try Controller(directory: directory)
            var second: Controller?
            var instancePids: [Int32] = []
            defer {
                first.stop()
                second?.stop()
                for pid in instancePids where processExists(pid) { kill(-pid, SIGKILL) }
            }
            try await waitUntil("3 healthy instances") { try status(in: directory)?.healthyCount == 3 }
            try await waitUntil("the listener serves") {
                (try? LoopbackHTTP.get(port: listen, path: "/"))?.status == 200
            }
            let load = LoadClient(port: listen)
            await load.waitFor(100)

            #expect(try slipway(["deploy", "shop", "--version", "2.0.0", "-f", "slipway.yaml"], in: directory) == 0)
            try await waitUntil("the canary takes 25%") {
                let status = try status(in: directory)
                return status?.weights["2.0.0"] == 25 && status?.rollout?.stepDescription == "pause 5s"
            }
            await load.waitFor(50)
            instancePids = try status(in: directory)?.instances.compactMap { $0.pid.map(Int32.init) } ?? []
            #expect(instancePids.count == 4)
            let killedAt = Date().timeIntervalSince(load.began)
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()

            second = try Controller(directory: directory)
            try await waitUntil("the listener serves again") {
                (try? LoopbackHTTP.get(port: listen, path: "/"))?.status == 200
            }
            let servingAgainAt = Date().timeIntervalSince(load.began)
            try await waitUntil("the rollout ends", timeout: .seconds(60)) {
                let state = try status(in: directory)?.rollout?.state
                return state != nil && state != "running" && state != "paused" && state != "rollingBack"
            }
            await load.waitFor(100)
            await load.stop()

            let final = try #require(try status(in: directory))
            #expect(final.rollout?.number == 1)
            #expect(final.rollout?.state == "promoted")
            #expect(final.version == "2.0.0")
            let log = try EventLog(directory: directory + "/state", create: false)
            let events = try log.events(app: "shop", limit: .max)
            #expect(events.filter { $0.kind == .rolloutStarted }.count == 1)
            // The instances the first controller left were taken over, not started again.
            let adopted = events.filter { $0.kind == .instanceAdopted }.compactMap(\.instance)
            #expect(adopted.count == 4)
            // No request went to a dead instance: the proxy never answered 502, and requests failed only while no
            // controller (and so no listener) ran.
            let responses = load.all
            #expect(!responses.contains { $0.status == 502 })
            let failedWhileUp = responses.filter {
                $0.status != 200 && ($0.at < killedAt - 0.05 || $0.at > servingAgainAt + 0.5)
            }
            #expect(
                failedWhileUp.isEmpty,
                "\(failedWhileUp.count) failures outside the restart: \(failedWhileUp.prefix(3))"
            )
            print(
                "crash recovery: controller down \(String(format: "%.2f", servingAgainAt - killedAt)) s; "
                    + "\(responses.filter { $0.status != 200 }.count) of \(responses.count) requests failed, all while it was down"
            )
            second?.stop()
            for pid in instancePids { #expect(!processExists(pid) || pid == 0) }
        }

        /// The requests of variant B an experiment checkpoint counted.
        static func bUnits(_ event: RecordedEvent) -> Int? {
            guard case .object(let checkpoint)? = event.fields["checkpoint"],
                case .array(let goals)? = checkpoint["sums"],
                case .array(let variants)? = goals.first, variants.count == 2, case .object(let b) = variants[1]
            else { return nil }
            return b["count"]?.intValue
        }

        @Test func aRestartedControllerCarriesTheExperimentOnFromItsCheckpoint() async throws {
            let directory = try makeTemporaryDirectory("slipway-crash-ab")
            let listen = try LoopbackHTTP.freePort()
            let api = try LoopbackHTTP.freePort()
            var yaml = ControllerFixture.demoConfig(
                instances: 2,
                extra: RolloutConfig.app(
                    strategy: """
                        abTest:
                          weight: 50
                          goals: [{outcome: converted}]
                          stopOnDecision: false
                        """
                ),
                apiPort: api,
                env: ["DEMO_CONVERSION_RATE": "0.1"]
            )
            yaml = yaml.replacingOccurrences(of: "listen: 127.0.0.1:0", with: "listen: 127.0.0.1:\(listen)")
            try yaml.write(toFile: directory + "/slipway.yaml", atomically: true, encoding: .utf8)

            let first = try Controller(directory: directory)
            var second: Controller?
            var instancePids: [Int32] = []
            defer {
                first.stop()
                second?.stop()
                for pid in instancePids where processExists(pid) { kill(-pid, SIGKILL) }
            }
            func events(_ kind: EventKind) throws -> [RecordedEvent] {
                guard let log = try? EventLog(directory: directory + "/state", create: false) else { return [] }
                return try log.events(app: "shop", limit: .max).filter { $0.kind == kind }
            }
            try await waitUntil("2 healthy instances") { try status(in: directory)?.healthyCount == 2 }
            try await waitUntil("the listener serves") {
                (try? LoopbackHTTP.get(port: listen, path: "/"))?.status == 200
            }
            let load = LoadClient(port: listen)
            await load.waitFor(100)
            #expect(try slipway(["deploy", "shop", "--version", "2.0.0", "-f", "slipway.yaml"], in: directory) == 0)
            // The first checkpoint comes 15 s into the experiment.
            try await waitUntil("a checkpoint of the experiment", timeout: .seconds(60)) {
                try !events(.experimentCheckpoint).isEmpty
            }
            let before = try #require(try events(.experimentCheckpoint).last.flatMap(Self.bUnits))
            #expect(before > 100)
            instancePids = try status(in: directory)?.instances.compactMap { $0.pid.map(Int32.init) } ?? []
            kill(first.process.processIdentifier, SIGKILL)
            first.process.waitUntilExit()

            second = try Controller(directory: directory)
            try await waitUntil("the experiment is carried on", timeout: .seconds(30)) {
                try events(.experimentCheckpoint).contains { $0.fields["restored"] == true }
            }
            try await waitUntil("a checkpoint after the restart", timeout: .seconds(40)) {
                let after = try events(.experimentCheckpoint).filter { $0.fields["restored"] != true }
                return after.count >= 2
            }
            let after = try #require(try events(.experimentCheckpoint).last.flatMap(Self.bUnits))
            // The counts went on from the checkpoint rather than from zero.
            #expect(after > before, "\(after) B requests after the restart, \(before) before")
            #expect(try events(.experimentStarted).count == 1)
            #expect(try events(.rolloutStarted).count == 1)
            #expect(try slipway(["abort", "shop", "-f", "slipway.yaml"], in: directory) == 0)
            try await waitUntil("the rollout ends", timeout: .seconds(30)) {
                try status(in: directory)?.rollout?.state == "aborted"
            }
            await load.stop()
            let concluded = try #require(try events(.experimentConcluded).last)
            let report = try #require(concluded.fields["report"].flatMap(ExperimentReport.init(json:)))
            #expect(try #require(report.goals.first?.variants.last).units >= after)
            print(
                "experiment across a restart: \(before) B requests at the last checkpoint before the kill, "
                    + "\(report.goals.first?.variants.last?.units ?? 0) when it concluded"
            )
            second?.stop()
        }
    }
}
