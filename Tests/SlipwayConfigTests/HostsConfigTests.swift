import Foundation
import SlipwayConfig
import Testing

@Suite("Hosts")
struct HostsConfigTests {
    /// A file with `hosts` (lines under the top-level key) and the minimal app.
    static func yaml(_ hosts: String) -> String {
        "hosts:\n"
            + hosts.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
            + "\n" + ConfigFixtures.minimal
    }

    @Test func everyKeyAndTheDefaults() throws {
        let directory = try makeDirectory()
        let key = directory + "/deploy_key"
        #expect(FileManager.default.createFile(atPath: key, contents: Data("key".utf8)))
        let config = try ConfigFixtures.parse(
            Self.yaml(
                """
                - name: web-1
                  address: 10.0.0.11
                  port: 2222
                  user: deploy
                  identityFile: \(key)
                  knownHostsFile: known_hosts
                  hostKeys: acceptNew
                  directory: /srv/slipway/
                - name: web-2
                  address: web-2.example.com
                """
            )
        )
        #expect(
            config.hosts == [
                HostSpec(
                    name: "web-1",
                    address: "10.0.0.11",
                    port: 2222,
                    user: "deploy",
                    identityFile: key,
                    knownHostsFile: ConfigFixtures.baseDirectory + "/known_hosts",
                    hostKeys: .acceptNew,
                    directory: "/srv/slipway"
                ),
                HostSpec(name: "web-2", address: "web-2.example.com"),
            ]
        )
        #expect(config.hosts[1].port == 22)
        #expect(config.hosts[1].hostKeys == .strict)
        #expect(config.hosts[1].directory == "/var/lib/slipway")
    }

    @Test func badValuesAreReportedWithTheirPaths() {
        let problems = ConfigFixtures.problems(
            Self.yaml(
                """
                - name: Web_1
                  address: "10.0.0.11; rm -rf /"
                  port: 70000
                  hostKeys: trustAll
                  directory: srv
                - name: web-2
                  address: 10.0.0.12
                  identityFile: /no/such/key
                  user: "-oProxyCommand=x"
                - name: web-4
                  address: 10.0.0.13
                - name: web-4
                  address: 10.0.0.14
                - {address: 10.0.0.15, color: blue}
                """
            )
        )
        #expect(problems.contains { $0.contains("hosts[0].name: expected a host name like web-1") })
        #expect(problems.contains { $0.contains("hosts[0].address: expected an IP address or a DNS name") })
        #expect(problems.contains { $0.contains("hosts[0].port: expected an integer from 1 to 65535, got 70000") })
        #expect(problems.contains { $0.contains("hosts[0].hostKeys: expected `strict`") })
        #expect(problems.contains { $0.contains("hosts[0].directory: expected an absolute path") })
        #expect(problems.contains { $0.contains("hosts[1].identityFile: no such file: /no/such/key") })
        #expect(problems.contains { $0.contains("hosts[1].user: expected a user name like deploy") })
        #expect(problems.contains { $0.contains("hosts[3].name: host `web-4` is already defined at hosts[2]") })
        #expect(problems.contains { $0.contains("hosts[4]: missing required key `name`") })
        #expect(problems.contains { $0.contains("hosts[4].color: unknown key `color`") })
        #expect(problems.allSatisfy { $0.hasPrefix("slipway.yaml:") }, "\(problems)")
    }

    @Test func noHostsMeansThisMachine() throws {
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).hosts.isEmpty)
    }

    private func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "slipway-hosts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
