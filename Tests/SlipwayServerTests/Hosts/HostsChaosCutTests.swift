import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

/// `slipway chaos cut`, over real SSH (``SSHLab``): a host cut off and let go while another serves a steady load.
@Suite("Cutting a host off by chaos", .serialized)
struct HostsChaosCutTests {
    @Test(.tags(.heavy)) func aCutHostAnswersNothingIsFoundLostAndIsLetGoAndReconciledOnTime() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 2) { lab in
                let service = try HostsService(lab: lab, strategy: "rolling:\n  maxSurge: 1\n  maxUnavailable: 0")
                try await service.running { try await Self.cutAndLetGo(lab, $0) }
            }
        }
    }

    /// What the test above checks, once its hosts and controller run.
    private static func cutAndLetGo(_ lab: SSHLab, _ service: HostsService) async throws {
        try await service.waitUntilServing(version: "1.0.0", instances: 2)
        let (kept, cut) = (lab.hosts[0], lab.hosts[1])
        let load = LoadClient(port: HostsService.port, host: kept.address, rate: 60, threads: 3, path: "/index.html")
        await load.waitFor(30)

        let started = try await service.slipway(["chaos", "cut", cut.name, "--for", "8s", "--reason", "drill"])
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        // Its data plane and its one instance.
        #expect(
            started.stdout.contains("cut \(cut.name) off until") && started.stdout.contains("2 processes frozen"),
            "\(started.stdout)"
        )
        // The cut host's listener takes the connection and answers nothing.
        let answer = try? LoopbackHTTP.get(
            port: HostsService.port,
            path: "/index.html",
            timeout: .seconds(1),
            host: cut.address
        )
        #expect(answer == nil, "\(String(describing: answer))")

        // The controller no longer reaches the host: it is lost, as a host the network drops would be.
        try await waitUntil("the cut host is found lost", timeout: .seconds(20)) {
            try !service.events(.hostUnreachable).isEmpty
        }
        let lost = try #require(try service.events(.hostUnreachable).last)
        let cutAt = try #require(try service.events(.chaosHostCut).last).time
        // Two failed looks: the commands fail at once, without waiting for a connect timeout.
        #expect(lost.time.timeIntervalSince(cutAt) < 5, "lost \(lost.time.timeIntervalSince(cutAt)) s after the cut")
        #expect(lost.fields["host"]?.stringValue == cut.name, "\(lost.fields)")
        #expect(lost.fields["reason"]?.stringValue?.contains("cut off by chaos until") == true, "\(lost.fields)")
        let status = try await service.slipway(["chaos", "status"])
        #expect(status.stdout.contains("host \(cut.name) cut off until"), "\(status.stdout)")
        // A request sent to the kept host before the controller took the cut host's instance out of its routes
        // may have waited for it; none after.
        let settled = lost.time.timeIntervalSince(load.began) + 1.5

        // On time, everything there is let go, then the controller reaches the host again and reconciles it.
        try await waitUntil("the host is let go and found back", timeout: .seconds(40)) {
            try !service.events(.chaosHostRestored).isEmpty && !service.events(.hostReachable).isEmpty
        }
        let restored = try #require(try service.events(.chaosHostRestored).last)
        #expect(restored.fields["thawed"] == 2 && restored.fields["reason"] == "its time was up", "\(restored.fields)")
        #expect((restored.fields["cutForMs"]?.intValue ?? 0) >= 8000, "\(restored.fields)")
        let back = try #require(try service.events(.hostReachable).last)
        #expect(back.time >= restored.time)
        let commands = try service.events(.remoteCommand).compactMap { event -> String? in
            guard event.fields["succeeded"] == true else { return nil }
            return event.fields["action"]?.stringValue
        }
        #expect(commands.contains("freezeHost") && commands.contains("thawHost"), "\(Set(commands))")
        try await service.waitUntilServing(version: "1.0.0", instances: 2)
        await load.waitFor(60)
        await load.stop()

        let late = load.all.filter { $0.at > settled && $0.status != 200 }
        #expect(late.isEmpty, "\(late.count) of \(load.all.count) failed: \(late.prefix(5))")
        #expect(load.all.filter { $0.at > settled }.count > 200)
    }
}
