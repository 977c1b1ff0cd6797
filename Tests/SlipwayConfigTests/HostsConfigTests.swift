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

    /// Two hosts and an app `shop` with the lines `app` (after `listen`, in the app's indentation).
    static func placed(_ app: String, listen: String = "0.0.0.0:8080") -> String {
        """
        hosts:
          - {name: web-1, address: 10.0.0.11}
          - {name: web-2, address: 10.0.0.12}
        apps:
          - name: shop
            listen: \(listen)
            version: "1.0.0"
            run:
              command: [shop-server, --port, "{port}"]
        \(app.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func anAppOnHostsCountsItsInstancesOnEachHost() throws {
        let config = try ConfigFixtures.parse(Self.placed("hosts: [web-2, web-1]\ninstances: 3"))
        #expect(config.apps[0].hosts == ["web-2", "web-1"])
        #expect(config.apps[0].instances == 6)
        #expect(config.apps[0].instancesPerHost == 3)
        let local = try ConfigFixtures.parse(ConfigFixtures.minimal).apps[0]
        #expect(local.hosts.isEmpty && local.instancesPerHost == local.instances)
    }

    @Test func anAppsHostsMustBeDeclaredOnceEachWithAFixedPort() {
        let unknown = ConfigFixtures.problems(Self.placed("hosts: [web-1, web-3, web-1]\ninstances: 1"))
        #expect(
            unknown.contains {
                $0.contains("apps[0].hosts[1]: no host is named `web-3` (the hosts are `web-1`, `web-2`)")
            },
            "\(unknown)"
        )
        #expect(unknown.contains { $0.contains("apps[0].hosts[2]: host `web-1` is listed twice") }, "\(unknown)")
        #expect(unknown.allSatisfy { $0.hasPrefix("slipway.yaml:") })

        let empty = ConfigFixtures.problems(Self.placed("hosts: []\ninstances: 1"))
        #expect(empty.contains { $0.contains("apps[0].hosts: expected at least one host name") }, "\(empty)")
        let scalar = ConfigFixtures.problems(Self.placed("hosts: web-1\ninstances: 1"))
        #expect(scalar.contains { $0.contains("apps[0].hosts: expected a list of host names") }, "\(scalar)")

        let anyPort = ConfigFixtures.problems(Self.placed("hosts: [web-1]\ninstances: 1", listen: "0.0.0.0:0"))
        #expect(
            anyPort.contains { $0.contains("apps[0].listen: an app on hosts (web-1) needs a fixed port") },
            "\(anyPort)"
        )

        let anyPreviewPort = ConfigFixtures.problems(
            Self.placed("hosts: [web-1]\ninstances: 1\nstrategy:\n  blueGreen:\n    previewListen: 0.0.0.0:0")
        )
        #expect(
            anyPreviewPort.contains {
                $0.contains(
                    "apps[0].strategy.blueGreen.previewListen: an app on hosts (web-1) needs a fixed preview port"
                )
            },
            "\(anyPreviewPort)"
        )

        let many = ConfigFixtures.problems(Self.placed("hosts: [web-1, web-2]\ninstances: 600"))
        #expect(
            many.contains { $0.contains("apps[0].instances: 600 instances on each of 2 hosts make 1200") },
            "\(many)"
        )

        let none = ConfigFixtures.problems(
            ConfigFixtures.minimal.replacingOccurrences(of: "instances: 3", with: "instances: 3\n    hosts: [web-1]")
        )
        #expect(
            none.contains { $0.contains("no host is named `web-1`: the top-level `hosts` declares none") },
            "\(none)"
        )
    }

    @Test func anEnvironmentPutsItsCopyOfTheAppOnHostsOfItsOwn() throws {
        let config = try ConfigFixtures.parse(
            """
            hosts:
              - {name: web-1, address: 10.0.0.11}
              - {name: web-2, address: 10.0.0.12}
              - {name: stage-1, address: 10.0.1.11}
            apps:
              - name: shop
                listen: 0.0.0.0:8080
                instances: 2
                version: "1.0.0"
                run: { command: [shop-server, --port, "{port}"] }
            environments:
              dev:
                apps:
                  shop: { listen: 127.0.0.1:8280 }
              staging:
                apps:
                  shop: { hosts: [stage-1], instances: 1, listen: 0.0.0.0:8180 }
              prod:
                apps:
                  shop: { hosts: [web-1, web-2] }
            """
        )
        let apps = Dictionary(uniqueKeysWithValues: config.apps.map { ($0.name, $0) })
        #expect(apps["shop@dev"]?.hosts == [] && apps["shop@dev"]?.instances == 2)
        #expect(apps["shop@staging"]?.hosts == ["stage-1"] && apps["shop@staging"]?.instances == 1)
        #expect(apps["shop@prod"]?.hosts == ["web-1", "web-2"] && apps["shop@prod"]?.instances == 4)
        #expect(apps["shop@prod"]?.instancesPerHost == 2)

        let unknown = ConfigFixtures.problems(
            """
            hosts: [{name: web-1, address: 10.0.0.11}]
            apps:
              - {name: shop, listen: 0.0.0.0:8080, instances: 1, version: "1.0.0", run: {command: [s]}}
            environments:
              prod: { apps: { shop: { hosts: [web-9] } } }
            """
        )
        #expect(
            unknown.contains { $0.contains("environments.prod.apps.shop.hosts[0]: no host is named `web-9`") },
            "\(unknown)"
        )
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
