import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Releases across three hosts over real SSH (``SSHLab``): `slipway up` on this machine runs `python3 -m
/// http.server` instances and a data plane on every host, and steady load reaches every host's listener from here.
@Suite("Rollouts across hosts", .serialized)
struct HostsRolloutTests {
    /// Steady load on every host's listener: 90 requests a second on each, 270 in all, from threads enough that a
    /// slower answer on a busy machine does not hold the rate down.
    private static func load(_ lab: SSHLab) -> [LoadClient] {
        lab.hosts.map {
            LoadClient(port: HostsService.port, host: $0.address, rate: 90, threads: 6, path: "/index.html")
        }
    }

    @Test(.tags(.heavy)) func aCanaryAcrossThreeHostsIsPromotedWithoutAFailedRequestAndABadOneIsRolledBackOnEveryHost()
        async throws
    {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 3) { lab in
                let service = try HostsService(
                    lab: lab,
                    strategy: "canary:\n  steps:\n    - weight: 50\n    - pause: 3s"
                )
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 3)
                    // Every host's data plane was started there, and every instance landed on a host of its own.
                    let planes = try service.events(.dataPlaneStarted).compactMap { $0.fields["host"]?.stringValue }
                    #expect(Set(planes) == ["h1", "h2", "h3"])
                    let first = try service.instanceAddresses(version: "1.0.0")
                    #expect(first.sorted() == lab.hosts.map(\.address).sorted())
                    // What changed the hosts is on record: the supervisor installed (the data plane was in place),
                    // the data planes and instances started, with the words they ran.
                    let commands = try service.events(.remoteCommand)
                    let actions = commands.compactMap { $0.fields["action"]?.stringValue }
                    let installs = commands.filter { $0.fields["action"]?.stringValue == "install" }
                    #expect(installs.count == 3, "\(actions)")
                    #expect(
                        installs.allSatisfy { $0.fields["command"]?.description.contains("slipway-supervisor") == true }
                    )
                    #expect(actions.filter { $0 == "startDataPlane" }.count == 3, "\(actions)")
                    let starts = commands.filter { $0.fields["action"]?.stringValue == "startInstance" }
                    #expect(starts.count == 3 && starts.allSatisfy { $0.fields["succeeded"] == true })
                    #expect(starts.first?.fields["command"]?.description.contains("1.0.0") == true)

                    var loads = Self.load(lab)
                    await loads[0].waitFor(100)
                    let deploy = try await service.slipway(
                        ["deploy", "shop", "--version", "2.0.0", "--wait"],
                        seconds: 120
                    )
                    #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
                    for load in loads { await load.waitFor(100) }
                    for load in loads { await load.stop() }

                    #expect(try service.status()?.rollout?.state == "promoted")
                    let second = try service.instanceAddresses(version: "2.0.0")
                    #expect(second.sorted() == lab.hosts.map(\.address).sorted())
                    let total = loads.map(\.all.count).reduce(0, +)
                    let seconds = loads.map { $0.all.last?.at ?? 0 }.max() ?? 1
                    let failed = loads.flatMap(\.failed)
                    #expect(failed.isEmpty, "\(failed.count) of \(total) failed: \(failed.prefix(5))")
                    #expect(Double(total) / seconds >= 200, "\(total) requests in \(seconds)s")
                    for (load, host) in zip(loads, lab.hosts) {
                        // Each host's listener served both versions while the weight was 50%, and only the new one
                        // at the end.
                        #expect(!load.served(by: "1.0.0").isEmpty, "\(host.name)")
                        #expect(!load.served(by: "2.0.0").isEmpty, "\(host.name)")
                        #expect(load.all.last?.version == "2.0.0", "\(host.name)")
                    }

                    // A release that fails its requests is judged on every host's traffic together and rolled
                    // back everywhere.
                    loads = Self.load(lab)
                    let bad = try await service.slipway(
                        ["deploy", "shop", "--version", "3.0.0", "--wait"],
                        seconds: 120
                    )
                    #expect(bad.status == 1, "\(bad.stdout)\(bad.stderr)")
                    #expect(try service.status()?.rollout?.state == "rolledBack")
                    let ended = Date().timeIntervalSince(loads[0].began)
                    for load in loads { await load.waitFor(100) }
                    for load in loads { await load.stop() }
                    #expect(try service.instanceAddresses(version: "3.0.0").isEmpty)
                    // The instances' variables are never recorded.
                    #expect(try !service.recordedText().contains(HostsService.secret))
                    for (load, host) in zip(loads, lab.hosts) {
                        let after = load.all.filter { $0.at > ended + 0.5 }
                        #expect(
                            !after.isEmpty && after.allSatisfy { $0.status == 200 && $0.version == "2.0.0" },
                            "\(host.name)"
                        )
                    }
                }
            }
        }
    }

    @Test(.tags(.heavy)) func aRollingReleaseAcrossHostsGoesOnServingWhileItsControllerIsKilled() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 3) { lab in
                let strategy = "rolling:\n  maxSurge: 1\n  maxUnavailable: 0"
                let service = try HostsService(lab: lab, strategy: strategy)
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 3)
                    let loads = Self.load(lab)
                    await loads[0].waitFor(100)
                    let deploy = try await service.slipway(["deploy", "shop", "--version", "2.0.0"])
                    #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
                    // Killed once the first new instance serves: the hosts' data planes and instances go on.
                    try await waitUntil("a 2.0.0 instance is healthy", timeout: .seconds(60)) {
                        try service.events(.instanceHealthy).contains { event in
                            try service.events(.instanceStarted).contains {
                                $0.instance == event.instance && $0.fields["version"]?.stringValue == "2.0.0"
                            }
                        }
                    }
                    service.killController()
                    let killed = Date().timeIntervalSince(loads[0].began)
                    try await Task.sleep(for: .seconds(3))
                    for (load, host) in zip(loads, lab.hosts) {
                        let meanwhile = load.all.filter { $0.at > killed }
                        #expect(meanwhile.count > 100 && meanwhile.allSatisfy { $0.status == 200 }, "\(host.name)")
                    }

                    // The next controller attaches to every host's data plane, adopts the instances and finishes.
                    try service.startController()
                    try await waitUntil("the rollout is promoted", timeout: .seconds(90)) {
                        try service.status()?.rollout?.state == "promoted"
                    }
                    for load in loads { await load.waitFor(100) }
                    for load in loads { await load.stop() }
                    let attached = try service.events(.dataPlaneAttached).compactMap { $0.fields["host"]?.stringValue }
                    #expect(Set(attached) == ["h1", "h2", "h3"])
                    let placed = try service.instanceAddresses(version: "2.0.0")
                    #expect(placed.sorted() == lab.hosts.map(\.address).sorted(), "\(placed)")
                    let failed = loads.flatMap(\.failed)
                    let total = loads.map(\.all.count).reduce(0, +)
                    #expect(failed.isEmpty, "\(failed.count) of \(total) failed: \(failed.prefix(5))")
                    for load in loads { #expect(load.all.last?.version == "2.0.0") }

                    // `slipway hosts` shows each host's data plane and its instance.
                    let hosts = try await service.slipway(["hosts", "--json"])
                    #expect(hosts.status == 0, "\(hosts.stdout)\(hosts.stderr)")
                    let reports = try #require(
                        try JSONSerialization.jsonObject(with: Data(hosts.stdout.utf8)) as? [[String: Any]]
                    )
                    #expect(reports.count == 3)
                    for report in reports {
                        #expect(report["dataPlanePid"] as? Int != nil, "\(report)")
                        #expect((report["instances"] as? [String])?.count == 1, "\(report)")
                    }

                    // With no controller, `slipway down` stops the instances and data planes on every host.
                    service.killController()
                    let down = try await service.slipway(["down"], seconds: 90)
                    #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
                    for host in lab.hosts {
                        #expect(down.stdout.contains("stopped the data plane of \(host.name) (pid"), "\(down.stdout)")
                    }
                    #expect(down.stdout.components(separatedBy: "stopped shop-").count - 1 == 3, "\(down.stdout)")
                    #expect(try await service.processesLeftOnHosts() == [])
                }
            }
        }
    }

    @Test(.tags(.heavy)) func aHostCutOffMidRolloutHoldsItThenItGoesBackOnTheOthersAndTheHostIsReconciledWhenBack()
        async throws
    {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 3) { lab in
                let strategy = "canary:\n  steps:\n    - weight: 50\n    - pause: {}\nprogressDeadline: 15s"
                let service = try HostsService(lab: lab, strategy: strategy)
                try await service.running { try await Self.cutOff(lab, $0) }
            }
        }
    }

    /// What the test above checks, once its hosts and controller run.
    private static func cutOff(_ lab: SSHLab, _ service: HostsService) async throws {
        try await service.waitUntilServing(version: "1.0.0", instances: 3)
        let deploy = try await service.slipway(["deploy", "shop", "--version", "2.0.0"])
        #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
        try await waitUntil("the canary waits for a promote", timeout: .seconds(60)) {
            try service.status()?.rollout?.stepDescription == "pause until promote"
                && service.instanceAddresses(version: "2.0.0").count == 2
        }
        // The host of a candidate is cut off; the load goes to the two others.
        let candidates = try service.instanceAddresses(version: "2.0.0")
        let cut = try #require(lab.hosts.first { $0.address == candidates[0] })
        let others = lab.hosts.filter { $0 != cut }
        let loads = others.map {
            LoadClient(port: HostsService.port, host: $0.address, rate: 60, threads: 3, path: "/index.html")
        }
        await loads[0].waitFor(50)
        try await lab.cut(cut)
        let cutAt = Date().timeIntervalSince(loads[0].began)

        // Noticed, and the rollout holds with the host named.
        try await waitUntil("the host is noticed lost", timeout: .seconds(30)) {
            try service.status()?.rollout?.heldBy == [cut.name]
        }
        let lost = try #require(try service.events(.hostUnreachable).last)
        #expect(lost.fields["host"]?.stringValue == cut.name)
        #expect(try service.events(.rolloutHeld).count == 1)

        // After progressDeadline it goes back on the hosts that answer, the cut one still cut.
        try await waitUntil("the rollout goes back", timeout: .seconds(60)) {
            try service.status()?.rollout?.state == "rolledBack"
        }
        let back = try #require(try service.events(.rolloutRollingBack).last)
        #expect(back.fields["reason"]?.stringValue?.contains("host \(cut.name) could not be reached") == true)
        // Nothing new was placed on the cut host.
        let startedWhileCut = try service.events(.instanceStarted).filter { $0.time > lost.time }
        #expect(!startedWhileCut.isEmpty)
        #expect(startedWhileCut.allSatisfy { $0.fields["address"]?.stringValue?.hasPrefix(cut.address + ":") == false })
        let settled = Date().timeIntervalSince(loads[0].began)
        for load in loads { await load.waitFor(100) }

        // Back: the candidate left there is stopped, its stable instance probed again, and every host
        // serves 1.0.0.
        try await lab.heal(cut)
        try await waitUntil("the host is back and reconciled", timeout: .seconds(60)) {
            try !service.events(.hostReachable).isEmpty
                && service.instanceAddresses(version: "2.0.0").isEmpty
                && service.status()?.healthyCount == 3
        }
        try await service.waitUntilServing(version: "1.0.0", instances: 3)
        for load in loads { await load.stop() }
        for (load, host) in zip(loads, others) {
            // A request in flight to the cut host's instance when the link went down may fail; none
            // once it was out of the routes.
            let late = load.all.filter { $0.at > cutAt + 5 && $0.status != 200 }
            #expect(late.isEmpty, "\(host.name): \(late.count) failed after the cut: \(late.prefix(3))")
            let after = load.all.filter { $0.at > settled }
            #expect(!after.isEmpty && after.allSatisfy { $0.version == "1.0.0" }, "\(host.name)")
        }
    }
}
