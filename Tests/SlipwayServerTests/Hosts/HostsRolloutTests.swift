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
    /// Steady load on every host's listener: 90 requests a second on each, 270 in all.
    private static func load(_ lab: SSHLab) -> [LoadClient] {
        lab.hosts.map {
            LoadClient(port: HostsService.port, host: $0.address, rate: 90, threads: 3, path: "/index.html")
        }
    }

    @Test func aCanaryAcrossThreeHostsIsPromotedWithoutAFailedRequestAndABadOneIsRolledBackOnEveryHost() async throws {
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

    @Test func aRollingReleaseAcrossHostsGoesOnServingWhileItsControllerIsKilled() async throws {
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
                }
            }
        }
    }
}
