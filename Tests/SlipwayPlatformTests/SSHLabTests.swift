import Foundation
import SlipwayTestSupport
import Testing

/// The hosts that tests across hosts run on: real OpenSSH servers in network namespaces of this machine.
@Suite("SSH lab hosts", .serialized)
struct SSHLabTests {
    @Test(.tags(.heavy)) func threeHostsAnswerOverSSHEachAtItsOwnAddressAndOnlyWithTheirKnownKeys() async throws {
        try await HeavyLoad.exclusive {
            try await self.threeHostsAnswerOverSSHEachAtItsOwnAddressAndOnlyWithTheirKnownKeysAlone()
        }
    }

    private func threeHostsAnswerOverSSHEachAtItsOwnAddressAndOnlyWithTheirKnownKeysAlone() async throws {
        try await SSHLab.with(hosts: 3) { lab in
            for host in lab.hosts {
                let run = try await lab.ssh(host, "ip -o -4 addr show")
                #expect(run.status == 0, "\(host.name): \(run.output)")
                #expect(run.output.contains(" \(host.address)/30 "), "\(host.name) sees \(run.output)")
                // Each host sees only its own link besides loopback.
                #expect(!lab.hosts.filter { $0 != host }.contains { run.output.contains($0.address) })
            }
            // A host whose key is not known is refused.
            let empty = lab.directory + "/empty_known_hosts"
            #expect(FileManager.default.createFile(atPath: empty, contents: nil))
            let refused = try await lab.ssh(lab.hosts[0], "true", knownHosts: empty)
            #expect(refused.status == 255)
            #expect(refused.output.contains("Host key verification failed"), "\(refused.output)")
        }
    }

    @Test(.tags(.heavy)) func aMultiplexedConnectionCarriesLaterCommandsAndACutHostFailsWithinItsConnectTimeout()
        async throws
    {
        try await HeavyLoad.exclusive {
            try await self.aMultiplexedConnectionCarriesLaterCommandsAndACutHostFailsWithinItsConnectTimeoutAlone()
        }
    }

    private func aMultiplexedConnectionCarriesLaterCommandsAndACutHostFailsWithinItsConnectTimeoutAlone() async throws {
        try await SSHLab.with(hosts: 2) { lab in
            let control = lab.sockets + "/%C"
            let multiplexing = ["-o", "ControlMaster=auto", "-o", "ControlPath=\(control)", "-o", "ControlPersist=30"]
            let host = lab.hosts[1]
            let first = try await lab.ssh(host, "true", extra: multiplexing)
            #expect(first.status == 0, "\(first.output)")
            let check = try await lab.ssh(host, "", extra: multiplexing + ["-O", "check"])
            #expect(check.status == 0, "\(check.output)")
            #expect(try await lab.ssh(host, "echo again", extra: multiplexing).output.contains("again"))

            try await lab.cut(lab.hosts[0])
            let started = Date()
            let cut = try await lab.ssh(lab.hosts[0], "true", connectTimeout: 1)
            #expect(cut.status == 255, "\(cut.output)")
            #expect(Date().timeIntervalSince(started) < 10)
            try await lab.heal(lab.hosts[0])
            #expect(try await lab.ssh(lab.hosts[0], "true").status == 0)
            _ = try await lab.ssh(host, "", extra: multiplexing + ["-O", "exit"])
        }
    }

    @Test(.tags(.heavy)) func stoppingTheLabStopsItsServersAndRemovesItsNamespaces() async throws {
        try await HeavyLoad.exclusive { try await self.stoppingTheLabStopsItsServersAndRemovesItsNamespacesAlone() }
    }

    private func stoppingTheLabStopsItsServersAndRemovesItsNamespacesAlone() async throws {
        let lab = try await SSHLab.start(hosts: 1)
        let host = lab.hosts[0]
        /// Alive and not a zombie left for its parent to reap.
        func running(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return !stat.split(separator: ")").last!.hasPrefix(" Z")
        }
        #expect(running(host.sshdPID))
        await lab.stop()
        #expect(!running(host.sshdPID), "sshd \(host.sshdPID) still runs")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(host.namespace)"))
    }
}
