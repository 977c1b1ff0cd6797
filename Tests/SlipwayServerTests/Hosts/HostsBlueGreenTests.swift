import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayTestSupport
import Testing

/// A blue-green release across two hosts over real SSH (``SSHLab``): the preview listener on every host, a smoke
/// test through it before the switch, the switch on every host at once, and the old set kept warm.
@Suite("Blue-green across hosts", .serialized)
struct HostsBlueGreenTests {
    /// The preview listener's port, the same on every host.
    static let previewPort = 8081

    @Test(.tags(.heavy)) func thePreviewIsOnEveryHostTheSmokeTestReachesItAndTheSwitchLosesNoRequest() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 2) { lab in
                let smoke = try Self.smokeTest()
                let service = try HostsService(
                    lab: lab,
                    strategy: """
                        blueGreen:
                          previewListen: 0.0.0.0:\(Self.previewPort)
                          autoPromote: false
                          scaleDownDelay: 60s
                        """,
                    hooks: "prePromotion:\n  - name: smoke\n    command: [python3, \(smoke)]"
                )
                try await service.running { try await Self.release(lab, $0, smoke: smoke) }
            }
        }
    }

    /// What the test above checks, once its hosts and controller run.
    private static func release(_ lab: SSHLab, _ service: HostsService, smoke: String) async throws {
        try await service.waitUntilServing(version: "1.0.0", instances: 2)
        let loads = lab.hosts.map {
            LoadClient(port: HostsService.port, host: $0.address, rate: 60, threads: 3, path: "/index.html")
        }
        await loads[0].waitFor(30)
        let deploy = try await service.slipway(["deploy", "shop", "--version", "2.0.0"])
        #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
        try await waitUntil("the new set waits for promote", timeout: .seconds(60)) {
            try service.status()?.rollout?.stepDescription == "pause until promote"
        }
        // Every host previews the new set on the same port, and still serves the old one to users.
        for host in lab.hosts {
            let preview = try LoopbackHTTP.get(
                port: Self.previewPort,
                path: "/index.html",
                timeout: .seconds(5),
                host: host.address
            )
            #expect(preview.status == 200 && preview.body.contains("\"version\":\"2.0.0\""), "\(host.name)")
            let users = try LoopbackHTTP.get(
                port: HostsService.port,
                path: "/index.html",
                timeout: .seconds(5),
                host: host.address
            )
            #expect(users.body.contains("\"version\":\"1.0.0\""), "\(host.name)")
        }

        let promote = try await service.slipway(["promote", "shop"])
        #expect(promote.status == 0, "\(promote.stdout)\(promote.stderr)")
        // Promoted: the switch is made, and the old set is kept for the scale-down delay (the rollout ends then).
        try await waitUntil("the new set takes the traffic", timeout: .seconds(60)) {
            try !service.events(.rolloutPromoted).isEmpty
        }
        let switched = loads.map { Date().timeIntervalSince($0.began) }
        // The smoke test ran before the switch, at the first host's preview, and passed.
        let smokeRan = try #require(
            try service.events(.hookFinished).first { $0.fields["hook"]?.stringValue == "smoke" }
        )
        #expect(smokeRan.fields["result"]?.stringValue == "succeeded", "\(smokeRan.fields)")
        let reached = try String(contentsOfFile: smoke + ".url", encoding: .utf8)
        #expect(reached == "http://\(lab.hosts[0].address):\(Self.previewPort)\n")
        // The old set is kept warm for the scale-down delay.
        #expect(try service.instanceAddresses(version: "1.0.0").count == 2)
        for load in loads { await load.waitFor(100) }
        for load in loads { await load.stop() }
        for (index, (load, host)) in zip(loads, lab.hosts).enumerated() {
            #expect(load.failed.isEmpty, "\(host.name): \(load.failed.count) of \(load.all.count) failed")
            #expect(!load.served(by: "1.0.0").isEmpty, "\(host.name)")
            let after = load.all.filter { $0.at > switched[index] + 0.5 }
            #expect(!after.isEmpty && after.allSatisfy { $0.version == "2.0.0" }, "\(host.name)")
        }
    }

    /// Writes a smoke test that records the preview URL it was given (in `<script>.url`) and passes only when the
    /// preview answers 2.0.0 there; returns its path.
    private static func smokeTest() throws -> String {
        let directory = try makeTemporaryDirectory("slipway-smoke")
        let path = directory + "/smoke.py"
        try """
        import os, sys, urllib.request
        url = os.environ["SLIPWAY_PREVIEW_URL"]
        with open(sys.argv[0] + ".url", "w") as f:
            f.write(url + "\\n")
        body = urllib.request.urlopen(url + "/index.html", timeout=5).read()
        sys.exit(0 if b'"version":"2.0.0"' in body else 1)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
