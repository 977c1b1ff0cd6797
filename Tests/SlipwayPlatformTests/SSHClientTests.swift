import Foundation
import SlipwayConfig
import SlipwayPlatform
import SlipwayTestSupport
import Testing

@Suite struct SSHClientTests {
    @Test func wordsAreQuotedForTheHostsShellSoThatNoneIsReadAsShell() {
        #expect(ShellQuoting.quote("/var/lib/slipway") == "/var/lib/slipway")
        #expect(ShellQuoting.quote("") == "''")
        #expect(ShellQuoting.quote("a b") == "'a b'")
        #expect(ShellQuoting.quote("it's; rm -rf /") == #"'it'\''s; rm -rf /'"#)
        #expect(ShellQuoting.quote("$(reboot)") == "'$(reboot)'")
        #expect(ShellQuoting.commandLine(["echo", "x y", "$HOME"]) == "echo 'x y' '$HOME'")
    }

    @Test func theClientAsksForBatchModeStrictKeysSharedConnectionsAndTheHostsSettings() {
        let host = HostSpec(
            name: "web-1",
            address: "10.0.0.11",
            port: 2222,
            user: "deploy",
            identityFile: "/keys/deploy",
            knownHostsFile: "/keys/known_hosts",
            hostKeys: .acceptNew
        )
        let arguments = SSHClient(host: host, controlDirectory: "/tmp/s", connectTimeout: .seconds(3))
            .arguments(for: ["ls", "/var/lib/slipway dir"])
        let text = arguments.joined(separator: " ")
        for option in [
            "-o BatchMode=yes", "-o StrictHostKeyChecking=accept-new", "-o ConnectTimeout=3", "-o ControlMaster=auto",
            "-o ControlPath=/tmp/s/%C", "-p 2222", "-i /keys/deploy", "-o IdentitiesOnly=yes",
            "-o UserKnownHostsFile=/keys/known_hosts", "-l deploy",
        ] {
            #expect(text.contains(option), "\(option) in \(text)")
        }
        // The destination comes after `--`, so an address can never be read as an option; the command is one word.
        #expect(Array(arguments.suffix(3)) == ["--", "10.0.0.11", "ls '/var/lib/slipway dir'"])
        let strict = SSHClient(host: HostSpec(name: "web-2", address: "10.0.0.12"), controlDirectory: "/tmp/s")
        #expect(strict.arguments(for: ["true"]).contains("StrictHostKeyChecking=yes"))
        #expect(!strict.arguments(for: ["true"]).contains("-l"))
    }
}

/// Looking at hosts over real SSH: OpenSSH servers in network namespaces (``SSHLab``).
@Suite("Host probes over SSH", .serialized)
struct HostProbeTests {
    static func host(
        _ lab: SSHLab,
        _ index: Int,
        knownHosts: String? = nil,
        hostKeys: HostSpec.HostKeyPolicy = .strict
    )
        -> HostSpec
    {
        let labHost = lab.hosts[index]
        return HostSpec(
            name: "web-\(index + 1)",
            address: labHost.address,
            user: "root",
            identityFile: lab.identity,
            knownHostsFile: knownHosts ?? lab.knownHosts,
            hostKeys: hostKeys,
            directory: labHost.root
        )
    }

    @Test(.tags(.heavy)) func reachableHostsReportTheirSystemAndTheUnreachableSayWhy() async throws {
        try await HeavyLoad.exclusive { try await self.reachableHostsReportTheirSystemAndTheUnreachableSayWhyAlone() }
    }

    private func reachableHostsReportTheirSystemAndTheUnreachableSayWhyAlone() async throws {
        try await SSHLab.with(hosts: 3) { lab in try await reachableAndUnreachable(lab) }
    }

    private func reachableAndUnreachable(_ lab: SSHLab) async throws {
        try await lab.cut(lab.hosts[2])
        let unknownKeys = lab.directory + "/no_keys"
        #expect(FileManager.default.createFile(atPath: unknownKeys, contents: nil))
        var missingFolder = Self.host(lab, 1)
        missingFolder.directory = lab.hosts[1].root + "/not-yet"
        let reports = await HostProbe.look(
            at: [Self.host(lab, 0), missingFolder, Self.host(lab, 2), Self.host(lab, 0, knownHosts: unknownKeys)],
            controlDirectory: lab.sockets,
            connectTimeout: .seconds(1)
        )
        #expect(reports.map(\.name) == ["web-1", "web-2", "web-3", "web-1"])
        #expect(reports[0].reachable && reports[0].system == "Linux x86_64", "\(reports[0])")
        #expect(reports[0].directoryExists && !reports[0].binariesInstalled)
        #expect(reports[1].reachable && !reports[1].directoryExists, "\(reports[1])")
        #expect(!reports[2].reachable)
        #expect(reports[2].problem?.hasPrefix("SSH could not connect") == true, "\(reports[2])")
        #expect(!reports[3].reachable)
        #expect(reports[3].problem?.contains("Host key verification failed") == true, "\(reports[3])")
    }

    @Test(.tags(.heavy)) func acceptNewRemembersANewHostsKey() async throws {
        try await HeavyLoad.exclusive { try await self.acceptNewRemembersANewHostsKeyAlone() }
    }

    private func acceptNewRemembersANewHostsKeyAlone() async throws {
        try await SSHLab.with(hosts: 1) { lab in try await acceptNew(lab) }
    }

    private func acceptNew(_ lab: SSHLab) async throws {
        let knownHosts = lab.directory + "/learned_hosts"
        #expect(FileManager.default.createFile(atPath: knownHosts, contents: nil))
        let reports = await HostProbe.look(
            at: [Self.host(lab, 0, knownHosts: knownHosts, hostKeys: .acceptNew)],
            controlDirectory: lab.sockets
        )
        #expect(reports.first?.reachable == true, "\(reports)")
        // The host's own key, remembered (OpenSSH may hash the address it is filed under).
        let learned = try String(contentsOfFile: knownHosts, encoding: .utf8)
        let key = try String(contentsOfFile: lab.hosts[0].root + "/host_key.pub", encoding: .utf8)
            .split(separator: " ")[1]
        #expect(learned.contains(key))
    }
}
