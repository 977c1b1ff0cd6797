import Foundation
import SlipwayTestSupport
import Testing

/// `slipway hosts` against real SSH servers (``SSHLab``).
@Suite("slipway hosts", .serialized)
struct HostsCommandTests {
    @Test func everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4() async throws {
        try await HeavyLoad.exclusive {
            try await self.everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4Alone()
        }
    }

    private func everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4Alone() async throws {
        try await SSHLab.with(hosts: 2) { lab in try await check(lab) }
    }

    private func check(_ lab: SSHLab) async throws {
        try await lab.cut(lab.hosts[1])
        let directory = try makeTemporaryDirectory("slipway-hosts-cli")
        let hosts = lab.hosts.enumerated().map { index, host in
            """
              - name: web-\(index + 1)
                address: \(host.address)
                user: root
                identityFile: \(lab.identity)
                knownHostsFile: \(lab.knownHosts)
                directory: \(host.root)
            """
        }.joined(separator: "\n")
        let app = """
            apps:
              - name: shop
                listen: 127.0.0.1:\(try LoopbackHTTP.freePort())
                instances: 1
                version: "1.0.0"
                run:
                  command: [python3, -m, http.server, "{port}"]
            """
        try ("hosts:\n" + hosts + "\n" + app).write(
            toFile: directory + "/slipway.yaml",
            atomically: true,
            encoding: .utf8
        )
        let run = try await SlipwayBinary.run(
            ["hosts", "-f", "slipway.yaml", "--connect-timeout", "1s"],
            in: directory,
            seconds: 60
        )
        #expect(run.status == 4, "\(run.stdout)\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("HOST") == true, "\(run.stdout)")
        let first = try #require(lines.first { $0.hasPrefix("web-1 ") })
        #expect(first.contains("root@\(lab.hosts[0].address):22"))
        #expect(first.contains("reachable") && first.contains("Linux x86_64") && first.contains("folder, no binaries"))
        let second = try #require(lines.first { $0.hasPrefix("web-2 ") })
        #expect(second.contains("unreachable") && second.contains("SSH could not connect"), "\(second)")

        try await lab.heal(lab.hosts[1])
        let json = try await SlipwayBinary.run(["hosts", "-f", "slipway.yaml", "--json"], in: directory, seconds: 60)
        #expect(json.status == 0, "\(json.stdout)\(json.stderr)")
        let reports = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(reports?.count == 2)
        #expect(reports?.allSatisfy { $0["reachable"] as? Bool == true } == true, "\(json.stdout)")
        // The identity file's path may be shown; its contents never are.
        let key = try String(contentsOfFile: lab.identity, encoding: .utf8)
        let secret = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(!(run.stdout + run.stderr + json.stdout + json.stderr).contains(secret))
    }
}
