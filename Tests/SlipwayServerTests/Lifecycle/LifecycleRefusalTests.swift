import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension LiveRollouts {
    /// What `up`, `stop-controller` and `down` do when what they find is not what they expect.
    @Suite struct LifecycleRefusalTests {
        @Test func aSecondUpIsRefusedAndStartsNoSecondDataPlane() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1))
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 1)
            let dataPlane = try #require(service.dataPlanePid)
            let second = try await service.slipway(["up"], seconds: 30)
            #expect(second.status == 2)
            #expect(second.stderr.contains("another controller (pid"), "\(second.stderr)")
            #expect(service.dataPlanePid == dataPlane)
            #expect(try service.events(.dataPlaneStarted).count == 1)
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func aStaleControlSocketIsReplaced() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1))
            defer { Task { await service.tearDown() } }
            try FileManager.default.createDirectory(
                atPath: service.directory + "/state",
                withIntermediateDirectories: true
            )
            // A socket file nobody listens on, as a killed data plane leaves it.
            let path = service.directory + "/state/dataplane.sock"
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            #expect(bound == 0)
            close(fd)
            #expect(FileManager.default.fileExists(atPath: path))
            try service.startController()
            try await service.waitUntilServing(instances: 1)
            #expect(try service.events(.dataPlaneStarted).count == 1)
            let left = await service.tearDown()
            #expect(left.isEmpty, "still running after slipway down: \(left)")
        }

        @Test func aDataPlaneOfAnotherProtocolIsNeitherDrivenNorDoubled() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1))
            defer { Task { await service.tearDown() } }
            let state = service.directory + "/state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            // Answers every greeting as a data plane of protocol 99 would.
            let script = """
                import json, os, socket, sys
                path = sys.argv[1]
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.bind(path)
                server.listen(4)
                open(sys.argv[2], "w").write(str(os.getpid()) + "\\n")
                while True:
                    connection, _ = server.accept()
                    line = connection.makefile().readline()
                    request = json.loads(line)
                    answer = {"id": request["id"], "error": "this data plane (Slipway 9.0.0) speaks control protocol 99"}
                    connection.sendall((json.dumps(answer) + "\\n").encode())
                    connection.close()
                """
            let fake = Process()
            fake.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            fake.arguments = ["python3", "-c", script, state + "/dataplane.sock", state + "/dataplane.pid"]
            try fake.run()
            defer {
                kill(fake.processIdentifier, SIGKILL)
                fake.waitUntilExit()
            }
            try await waitUntil("the fake data plane listens") { service.dataPlanePid == fake.processIdentifier }
            let up = try await service.slipway(["up"], seconds: 30)
            #expect(up.status == 2)
            #expect(up.stderr.contains("cannot be driven"), "\(up.stderr)")
            #expect(up.stderr.contains("protocol 99"), "\(up.stderr)")
            #expect(try service.events(.dataPlaneStarted).isEmpty)
            #expect(try service.events(.instanceStarted).isEmpty)
            #expect(service.dataPlanePid == fake.processIdentifier)
        }

        @Test func stopControllerAndDownWithNothingRunning() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 1))
            let stop = try await service.slipway(["stop-controller"])
            #expect(stop.status == 4)
            #expect(stop.stderr.contains("no controller runs"), "\(stop.stderr)")
            let down = try await service.slipway(["down"])
            #expect(down.status == 0)
            #expect(down.stdout.contains("nothing runs"), "\(down.stdout)")
        }

        @Test func stopControllerLeavesTheServiceAndDownStopsIt() async throws {
            let service = try LiveService(app: LiveService.demoApp(instances: 2))
            defer { Task { await service.tearDown() } }
            try service.startController()
            try await service.waitUntilServing(instances: 2)
            let load = LoadClient(port: service.listen)
            await load.waitFor(100)
            let stop = try await service.slipway(["stop-controller"])
            #expect(stop.status == 0, "\(stop.stderr)")
            await load.waitFor(200)
            #expect(try service.status()?.supervision == .detached)
            #expect(try service.status()?.instances.count == 2)
            let pids = try service.knownPids()
            let down = try await service.slipway(["down"])
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout.contains("stopped the data plane"), "\(down.stdout)")
            await load.stop()
            #expect(load.all.filter { $0.status == 200 }.count >= 300)
            try await waitUntil("everything ended", timeout: .seconds(10)) { !pids.contains(where: processExists) }
            let exits = try service.events(.instanceExited)
            #expect(exits.count == 2)
            #expect(
                exits.allSatisfy { $0.fields["status"] == "signal 15 (SIGTERM)" || $0.fields["status"] == "status 0" }
            )
            #expect(try service.status()?.supervision == .stopped)
        }
    }
}
