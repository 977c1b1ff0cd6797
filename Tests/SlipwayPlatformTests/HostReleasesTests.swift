import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Synchronization
import Testing

@testable import SlipwayPlatform

/// Releases shipped as files to a host over real SSH (``SSHLab``): checked by their SHA-256 there, unpacked in a
/// folder per version, sent once, replaced when the same version is built again, and pruned to the newest few and
/// those that run.
@Suite("Host releases", .serialized)
struct HostReleasesTests {
    @Test(.tags(.heavy)) func aReleaseIsSentOnceCheckedUnpackedAndTheOldOnesGoButThoseThatRun() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 1) { lab in try await self.run(lab) }
        }
    }

    private func run(_ lab: SSHLab) async throws {
        let labHost = lab.hosts[0]
        let host = HostProbeTests.host(lab, 0)
        let sent = Mutex<[RemoteCommand]>([])
        let client = SSHClient(host: host, controlDirectory: lab.sockets, connectTimeout: .seconds(2)) { command in
            sent.withLock { $0.append(command) }
        }
        defer { Task { await client.closeSharedConnection() } }
        let releases = HostReleases(client: client)
        let local = try makeTemporaryDirectory("slipway-releases")
        let instance = InstanceID(app: "shop", number: 1)

        // A tar archive is unpacked in its version's folder, with the sum beside it.
        let content = local + "/content"
        try FileManager.default.createDirectory(atPath: content + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\necho one\n".write(toFile: content + "/bin/shop", atomically: true, encoding: .utf8)
        let archive = local + "/shop-1.0.0.tar.gz"
        #expect(try shell("tar -czf \(archive) -C \(content) bin") == 0)
        let folder = try await releases.ensure(
            app: "shop",
            version: "1.0.0",
            artifact: archive,
            for: instance,
            running: []
        )
        #expect(folder == labHost.root + "/releases/shop/1.0.0")
        let sum = try HostBinary(name: "a", path: archive).sha256
        let unpacked = try await lab.ssh(
            labHost,
            "cat \(folder)/bin/shop; cat \(folder)/.slipway-release; ls -A \(folder)"
        )
        #expect(unpacked.output == "#!/bin/sh\necho one\n\(sum)\n.slipway-release\nbin\n", "\(unpacked.output)")
        #expect(sent.withLock { $0.map(\.action) } == ["shipRelease"])
        #expect(sent.withLock { $0.first?.words } == [folder, "sha256:\(sum)", "from \(archive)"])
        #expect(sent.withLock { $0.first?.instance } == instance)

        // Already there with that sum: nothing is sent again, even for several instances at once.
        let folders = try await Self.atOnce(releases, version: "1.0.0", artifact: archive, instances: 2...4)
        #expect(folders == [folder, folder, folder])
        #expect(sent.withLock { $0.count } == 1)

        // Any other file is kept as it is, executable; several instances starting at once share one shipment.
        let program = local + "/shop-2.0.0"
        try "#!/bin/sh\necho two\n".write(toFile: program, atomically: true, encoding: .utf8)
        _ = try await Self.atOnce(releases, version: "2.0.0", artifact: program, instances: 5...7)
        #expect(sent.withLock { $0.count } == 2)
        let ran = try await lab.ssh(labHost, "\(labHost.root)/releases/shop/2.0.0/shop-2.0.0")
        #expect(ran.output == "two\n")

        // The same version built again with other bytes replaces its folder.
        try await Task.sleep(for: .milliseconds(20))
        try "#!/bin/sh\necho two again\n".write(toFile: program, atomically: true, encoding: .utf8)
        _ = try await releases.ensure(app: "shop", version: "2.0.0", artifact: program, for: instance, running: [])
        let again = try await lab.ssh(labHost, "\(labHost.root)/releases/shop/2.0.0/shop-2.0.0")
        #expect(again.output == "two again\n")
        #expect(sent.withLock { $0.count } == 3)

        // The newest five stay, and any that instances run; the rest go.
        for version in 3...7 {
            let file = local + "/shop-\(version)"
            try "#!/bin/sh\necho \(version)\n".write(toFile: file, atomically: true, encoding: .utf8)
            _ = try await releases.ensure(
                app: "shop",
                version: "\(version)",
                artifact: file,
                for: instance,
                running: ["1.0.0"]
            )
        }
        let left = try await lab.ssh(labHost, "ls -A \(labHost.root)/releases/shop")
        #expect(
            Set(left.output.split(separator: "\n").map(String.init)) == ["1.0.0", "3", "4", "5", "6", "7"],
            "\(left.output)"
        )

        // A file that is not there is a clear error, and nothing is sent.
        await #expect(throws: LaunchError.release("the artifact \(local)/none does not exist or is not a file")) {
            try await releases.ensure(
                app: "shop",
                version: "8",
                artifact: local + "/none",
                for: instance,
                running: []
            )
        }
        #expect(sent.withLock { $0.count } == 8)
    }

    /// `version` of `shop` made sure of for the instances numbered `instances`, all at once; the folders returned.
    private static func atOnce(
        _ releases: HostReleases,
        version: String,
        artifact: String,
        instances: ClosedRange<Int>
    ) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            for number in instances {
                group.addTask {
                    try await releases.ensure(
                        app: "shop",
                        version: version,
                        artifact: artifact,
                        for: InstanceID(app: "shop", number: number),
                        running: []
                    )
                }
            }
            var folders: [String] = []
            for try await folder in group { folders.append(folder) }
            return folders
        }
    }

    private func shell(_ command: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
