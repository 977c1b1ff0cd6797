import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Testing

@testable import SlipwayPlatform

#if canImport(Glibc)
import Glibc
#endif

/// Instances on a host over real SSH (``SSHLab``): `python3 -m http.server` started under the host's supervisor,
/// reached at the host's address, crashed, stopped, adopted by a second platform and reclaimed by a third.
@Suite("SSH platform", .serialized)
struct SSHPlatformTests {
    @Test(.tags(.heavy)) func instancesRunOnAHostUnderItsSupervisorAndOutliveThePlatformThatStartedThem() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 1) { lab in
                // The lab's namespaces go with it, but not the processes started in them: every supervisor the
                // host's records name, and its instance's process group, is killed, however the test ended.
                let records = lab.hosts[0].root + "/state/instances/*/*.supervisor"
                let cleanUp = { () async in
                    let script =
                        "for f in \(records); do [ -e \"$f\" ] || continue; "
                        + "kill -KILL -- -$(sed -n 's/^pid=//p' \"$f\") $(sed -n 's/^supervisor-pid=//p' \"$f\") "
                        + "2>/dev/null; done; true"
                    _ = try? await lab.ssh(lab.hosts[0], script)
                }
                do {
                    try await self.run(lab)
                } catch {
                    await cleanUp()
                    throw error
                }
                await cleanUp()
            }
        }
    }

    private func run(_ lab: SSHLab) async throws {
        let labHost = lab.hosts[0]
        let host = HostProbeTests.host(lab, 0)
        // Only the supervisor: the platform needs nothing else there, and the data plane is large to checksum.
        let binaries = [try HostBinary(name: "slipway-supervisor", path: BuiltProducts.path("slipway-supervisor"))]
        let installed = await HostInstaller.install(binaries, on: [host], controlDirectory: lab.sockets)
        #expect(installed.first?.installed == true, "\(installed)")
        let client = SSHClient(host: host, controlDirectory: lab.sockets, connectTimeout: .seconds(2))
        defer { Task { await client.closeSharedConnection() } }
        let platform = SSHPlatform(client: client, pollInterval: .milliseconds(200))
        func request(_ number: Int) -> LaunchRequest {
            LaunchRequest(
                app: "shop",
                version: "1.0.0",
                instance: InstanceID(app: "shop", number: number),
                run: RunSpec(
                    command: ["python3", "-m", "http.server", "{port}", "--bind", host.address],
                    env: ["DATABASE_URL": "postgres://shop:it's $ecret@db/shop"],
                    stopGracePeriod: .seconds(3)
                ),
                logs: LogSpec(),
                baseDirectory: "/"
            )
        }

        // Started there, it answers at the host's address and logs each request to its standard error.
        let first = try await platform.start(request(1))
        #expect(first.host == host.address)
        #expect(first.reference.hasPrefix("ssh:web-1:supervisor:"))
        try await waitUntil("the instance answers at the host's address", timeout: .seconds(10)) {
            (try? LoopbackHTTP.get(port: first.port, path: "/", timeout: .seconds(2), host: host.address))?.status
                == 200
        }
        // Its variables reached it exactly, and never a command line on the host.
        let environment = try await lab.ssh(labHost, "tr '\\0' '\\n' < /proc/\(first.pid)/environ")
        #expect(environment.output.contains("DATABASE_URL=postgres://shop:it's $ecret@db/shop\n"))
        #expect(environment.output.contains("SLIPWAY_INSTANCE=shop-1\n"))
        let commandLines = try await lab.ssh(labHost, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")
        #expect(!commandLines.output.contains("$ecret"))
        try await waitUntil("its request in its standard error") {
            await platform.stderrTail(of: first.id, lines: 5).contains { $0.contains("\"GET / HTTP/1.1\" 200") }
        }

        // A crash is seen with its signal.
        var exits = platform.exits.makeAsyncIterator()
        #expect(await platform.signal(first.id, SIGKILL))
        let crashed = await exits.next()
        #expect(crashed?.id == first.id)
        #expect(crashed?.status == .signaled(SIGKILL), "\(String(describing: crashed))")

        // A second platform adopts an instance by its reference and stops it; the first, which started it, sees
        // its exit too.
        let second = try await platform.start(request(2))
        let adopter = SSHPlatform(client: client, pollInterval: .milliseconds(200))
        let adopted = try #require(
            await adopter.adopt(second.id, reference: second.reference, host: second.host, port: second.port)
        )
        #expect(adopted.pid == second.pid)
        var adoptedExits = adopter.exits.makeAsyncIterator()
        let stopping = ContinuousClock.now
        await adopter.stop(second.id)
        #expect(ContinuousClock.now - stopping < .seconds(8))
        let stopped = await adoptedExits.next()
        #expect(stopped?.id == second.id)
        #expect((try? LoopbackHTTP.get(port: second.port, path: "/", timeout: .seconds(1), host: host.address)) == nil)

        // One started by a platform whose controller was lost is reclaimed by the next, and numbers go on.
        let third = try await platform.start(request(3))
        let next = SSHPlatform(client: client)
        let reclaimed = await next.reclaim(app: "shop", keeping: [first.id, second.id])
        #expect(reclaimed.stopped == [third.id])
        #expect(reclaimed.highestNumber == 3)
        let seen = [await exits.next(), await exits.next()].compactMap { $0?.id }
        #expect(seen == [second.id, third.id])
        #expect(
            await next.adopt(third.id, reference: "ssh:web-2:supervisor:\(third.supervisorPid ?? 0)", host: "", port: 0)
                == nil
        )
    }
}
