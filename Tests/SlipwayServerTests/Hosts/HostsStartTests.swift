import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

/// A controller that starts while one of the app's hosts cannot be reached, over real SSH (``SSHLab``).
@Suite("Starting with a host cut off", .serialized)
struct HostsStartTests {
    @Test(.tags(.heavy)) func aControllerStartsWithoutACutHostServesFromTheOthersAndMakesItReadyOnceItAnswers()
        async throws
    {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 2) { lab in
                let service = try HostsService(lab: lab, strategy: "rolling:\n  maxSurge: 1\n  maxUnavailable: 0")
                try await service.running { try await Self.startCut(lab, $0) }
            }
        }
    }

    /// What the test above checks, once its hosts and controller run.
    private static func startCut(_ lab: SSHLab, _ service: HostsService) async throws {
        try await service.waitUntilServing(version: "1.0.0", instances: 2)
        let (kept, cut) = (lab.hosts[0], lab.hosts[1])
        let load = LoadClient(port: HostsService.port, host: kept.address, rate: 60, threads: 3, path: "/index.html")
        await load.waitFor(30)

        // The controller is killed, and one host cut off before the next one starts.
        service.killController()
        try await lab.cut(cut)
        let startedAt = Date()
        try service.startController()
        try await waitUntil("the controller runs two healthy instances", timeout: .seconds(60)) {
            let started = try service.events(.controllerStarted).count == 2
            return try started && service.status()?.healthyCount == 2
        }
        let lost = try #require(try service.events(.hostUnreachable).last)
        #expect(lost.fields["host"]?.stringValue == cut.name && lost.fields["atStart"] == true, "\(lost.fields)")
        // The instance on the cut host could not be vouched for: one was started in its place, on the other host.
        let replaced = try service.events(.instanceStarted).filter { $0.time > startedAt }
        #expect(replaced.count == 1, "\(replaced)")
        #expect(replaced.allSatisfy { $0.fields["address"]?.stringValue?.hasPrefix(kept.address + ":") == true })
        // From here the routes hold only what this controller vouches for.
        let settled = Date().timeIntervalSince(load.began)
        await load.waitFor(50)

        // Back: the host gets this build's programs checked, its data plane is attached and given the routes in
        // force, and the instance an earlier controller left there is stopped.
        try await lab.heal(cut)
        try await waitUntil("the host is made ready", timeout: .seconds(60)) {
            try !service.events(.hostReachable).isEmpty
        }
        let attached = try service.events(.dataPlaneAttached).filter { $0.fields["host"]?.stringValue == cut.name }
        #expect(attached.contains { $0.time > startedAt }, "\(attached)")
        // The status shows each host's data plane, driven again.
        let planes = try #require(try service.status()?.hostDataPlanes)
        #expect(planes.keys.sorted() == [kept.name, cut.name].sorted() && planes.values.allSatisfy(\.attached))
        let reclaimed = try service.events(.instanceStopping).filter {
            $0.fields["reason"]?.stringValue?.contains("left running on \(cut.name)") == true
        }
        #expect(reclaimed.count == 1, "\(reclaimed)")
        try await service.waitUntilServing(version: "1.0.0", instances: 2)
        try await waitUntil("nothing runs on the cut host but its data plane", timeout: .seconds(30)) {
            try await service.processesLeftOnHosts().filter { $0.hasPrefix(cut.name + ":") }.allSatisfy {
                $0.contains("dataplane")
            }
        }
        await load.waitFor(100)
        await load.stop()
        // The kept host served throughout; a request sent to the cut host's instance before the new controller
        // took it out of the routes may have failed, none after, through the host's return.
        let late = load.all.filter { $0.at > settled && $0.status != 200 }
        #expect(late.isEmpty, "\(late.count) of \(load.all.count) failed: \(late.prefix(5))")
        #expect(load.all.filter { $0.at > settled }.count > 100)
    }
}
