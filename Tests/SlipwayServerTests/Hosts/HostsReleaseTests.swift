import Foundation
import SlipwayCore
import SlipwayPlatform
import SlipwayStore
import SlipwayTestSupport
import Testing

/// Releases shipped as an archive (`run.artifact`) to two hosts over real SSH (``SSHLab``) by a real `slipway up`:
/// each archive holds a script that runs `python3 -m http.server` on the site beside it.
@Suite("Releases shipped to hosts", .serialized)
struct HostsReleaseTests {
    @Test(.tags(.heavy)) func eachVersionIsShippedOnceToEveryHostAndRunsFromItsOwnFolder() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 2) { lab in
                let service = try HostsService(
                    lab: lab,
                    strategy: "rolling:\n  maxSurge: 1\n  maxUnavailable: 0",
                    run: "artifact: dist/shop-{version}.tar.gz\ncommand: [\"{release}/serve\", \"{port}\"]"
                )
                var sums: [String: String] = [:]
                for version in ["1.0.0", "2.0.0"] {
                    sums[version] = try Self.archive(version: version, in: service.directory)
                }
                try await service.running { service in
                    try await service.waitUntilServing(version: "1.0.0", instances: 2)
                    // Each host got the release once, checked by its sum, and runs it from its own folder.
                    for host in lab.hosts {
                        let folder = host.root + "/releases/shop/1.0.0"
                        let sum = try String(contentsOfFile: folder + "/.slipway-release", encoding: .utf8)
                        #expect(sum == (sums["1.0.0"] ?? "") + "\n", "\(host.name)")
                    }
                    #expect(try Self.shipments(service).count == 2)

                    // A version without its file is refused before anything starts.
                    let missing = try await service.slipway(["deploy", "shop", "--version", "2.0.1"])
                    #expect(missing.status == 2, "\(missing.stdout)\(missing.stderr)")
                    #expect(
                        missing.stderr.contains(
                            "no artifact for shop 2.0.1: \(service.directory)/dist/shop-2.0.1.tar.gz"
                        )
                            && missing.stderr.contains("apps[0].run.artifact"),
                        "\(missing.stderr)"
                    )
                    #expect(try service.status()?.rollout == nil)

                    let deploy = try await service.slipway(
                        ["deploy", "shop", "--version", "2.0.0", "--wait"],
                        seconds: 120
                    )
                    #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
                    try await service.waitUntilServing(version: "2.0.0", instances: 2)
                    let shipped = try Self.shipments(service)
                    #expect(shipped.count == 4)
                    #expect(
                        shipped.filter {
                            $0.fields["command"]?.description.contains("sha256:\(sums["2.0.0"] ?? "")") == true
                        }
                        .count == 2
                    )

                    // Back to 1.0.0: its release is still on every host, so nothing is sent.
                    let back = try await service.slipway(
                        ["deploy", "shop", "--version", "1.0.0", "--wait"],
                        seconds: 120
                    )
                    #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
                    try await service.waitUntilServing(version: "1.0.0", instances: 2)
                    #expect(try Self.shipments(service).count == 4)
                    for host in lab.hosts {
                        let releases = try FileManager.default.contentsOfDirectory(atPath: host.root + "/releases/shop")
                        #expect(releases.sorted() == ["1.0.0", "2.0.0"], "\(host.name)")
                    }
                }
            }
        }
    }

    /// The `shipRelease` commands recorded.
    private static func shipments(_ service: HostsService) throws -> [RecordedEvent] {
        try service.events(.remoteCommand).filter { $0.fields["action"]?.stringValue == "shipRelease" }
    }

    /// Writes `dist/shop-VERSION.tar.gz` in `directory`: `serve PORT` runs `python3 -m http.server` on the `site`
    /// beside it (from the folder it starts in), which answers `{"version":"VERSION"}` and a `/healthz`. Returns its
    /// SHA-256.
    private static func archive(version: String, in directory: String) throws -> String {
        let content = directory + "/build-\(version)"
        try FileManager.default.createDirectory(atPath: content + "/site", withIntermediateDirectories: true)
        try "{\"version\":\"\(version)\"}".write(
            toFile: content + "/site/index.html",
            atomically: true,
            encoding: .utf8
        )
        try "ok\n".write(toFile: content + "/site/healthz", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nexec python3 -m http.server \"$1\" --bind 0.0.0.0 --directory site\n".write(
            toFile: content + "/serve",
            atomically: true,
            encoding: .utf8
        )
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: content + "/serve")
        try FileManager.default.createDirectory(atPath: directory + "/dist", withIntermediateDirectories: true)
        let archive = directory + "/dist/shop-\(version).tar.gz"
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-czf", archive, "-C", content, "serve", "site"]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        return try HostBinary(name: "archive", path: archive).sha256
    }
}
