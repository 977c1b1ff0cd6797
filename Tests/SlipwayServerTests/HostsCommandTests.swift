import Foundation
import SlipwayCore
import SlipwayTestSupport
import Testing

/// `slipway hosts` against real SSH servers (``SSHLab``).
@Suite("slipway hosts", .serialized)
struct HostsCommandTests {
    @Test(.tags(.heavy)) func everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4() async throws {
        try await HeavyLoad.exclusive {
            try await self.everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4Alone()
        }
    }

    private func everyHostIsShownReachableOrWithWhyNotAndAnUnreachableOneExits4Alone() async throws {
        try await SSHLab.with(hosts: 2) { lab in try await check(lab) }
    }

    private func check(_ lab: SSHLab) async throws {
        try await lab.cut(lab.hosts[1])
        let directory = try Self.configure(lab)
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

    /// A folder with a `slipway.yaml` naming the lab's hosts `web-1`, `web-2`, … (each with its own folder).
    private static func configure(_ lab: SSHLab) throws -> String {
        let directory = try makeTemporaryDirectory("slipway-hosts-cli")
        let hosts = lab.hostEntries { index, _ in "web-\(index + 1)" }
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
        return directory
    }

    @Test(.tags(.heavy)) func installPutsThisBuildsProgramsOnEveryHostCheckedAndOnlyWhatIsMissing() async throws {
        try await HeavyLoad.exclusive {
            try await SSHLab.with(hosts: 2) { lab in try await self.install(lab) }
        }
    }

    private func install(_ lab: SSHLab) async throws {
        let directory = try Self.configure(lab)
        func install() async throws -> (status: Int32, reports: [[String: Any]], text: String) {
            // Sending the large debug data plane to two hosts at once is a burst of work: at a lower priority, so
            // that the tests running beside it keep their CPU.
            let run = try await SlipwayBinary.run(
                ["hosts", "install", "-f", "slipway.yaml", "--json", "--connect-timeout", "1s"],
                in: directory,
                seconds: 120,
                niceness: 10
            )
            let reports = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [[String: Any]]
            return (run.status, reports ?? [], run.stdout + run.stderr)
        }
        func actions(_ report: [String: Any]) -> [String: String] {
            let programs = report["programs"] as? [[String: Any]] ?? []
            return Dictionary(
                uniqueKeysWithValues: programs.map { ($0["name"] as? String ?? "?", $0["action"] as? String ?? "?") }
            )
        }
        let programs = ["slipway-dataplane", "slipway-supervisor"]
        func folder(_ host: SSHLab.Host) -> String { host.root + "/bin/" + SlipwayBuild.version }

        // The first time, both programs go to both hosts, byte for byte.
        var result = try await install()
        #expect(result.status == 0, "\(result.text)")
        #expect(result.reports.count == 2)
        for report in result.reports {
            #expect(actions(report) == ["slipway-dataplane": "copied", "slipway-supervisor": "copied"], "\(report)")
        }
        for host in lab.hosts {
            for program in programs {
                let path = folder(host) + "/" + program
                #expect(FileManager.default.contentsEqual(atPath: path, andPath: BuiltProducts.path(program)))
                #expect(FileManager.default.isExecutableFile(atPath: path))
            }
            let listed = try await lab.ssh(host, "ls -a \(folder(host))")
            #expect(!listed.output.contains(".upload."), "a temporary file was left: \(listed.output)")
        }

        // Again: nothing to send.
        result = try await install()
        #expect(result.status == 0, "\(result.text)")
        for report in result.reports {
            #expect(actions(report) == ["slipway-dataplane": "present", "slipway-supervisor": "present"])
            #expect(report["bytesCopied"] as? Int == 0)
        }

        // A program changed on one host is replaced there, and only there; a host cut off says why and exits 4.
        try Data("not a program".utf8).write(to: URL(fileURLWithPath: folder(lab.hosts[0]) + "/slipway-supervisor"))
        try await lab.cut(lab.hosts[1])
        result = try await install()
        #expect(result.status == 4, "\(result.text)")
        #expect(actions(result.reports[0]) == ["slipway-dataplane": "present", "slipway-supervisor": "copied"])
        #expect(
            FileManager.default.contentsEqual(
                atPath: folder(lab.hosts[0]) + "/slipway-supervisor",
                andPath: BuiltProducts.path("slipway-supervisor")
            )
        )
        #expect((result.reports[1]["problem"] as? String)?.contains("SSH could not connect") == true, "\(result.text)")
        try await lab.heal(lab.hosts[1])

        // Back, the cut-off host is brought up to date; the table says what was done where.
        let text = try await SlipwayBinary.run(["hosts", "install", "-f", "slipway.yaml"], in: directory, seconds: 120)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("HOST") == true, "\(text.stdout)")
        #expect(
            lines.contains { $0.hasPrefix("web-1 ") && $0.contains("installed  up to date in \(folder(lab.hosts[0]))") }
        )
        #expect(
            lines.contains { $0.hasPrefix("web-2 ") && $0.contains("installed  up to date in \(folder(lab.hosts[1]))") }
        )

        // `slipway hosts` sees them installed.
        let list = try await SlipwayBinary.run(["hosts", "-f", "slipway.yaml"], in: directory, seconds: 60)
        #expect(list.status == 0, "\(list.stdout)\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").filter { $0.contains("binaries installed") }.count == 2)
    }
}
