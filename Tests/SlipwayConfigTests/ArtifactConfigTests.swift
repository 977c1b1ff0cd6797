import Foundation
import SlipwayConfig
import Testing

@Suite("Release artifacts")
struct ArtifactConfigTests {
    /// Two hosts and an app `shop` on them (or on this machine with `hosts: nil`) whose `run` holds `run`.
    static func yaml(run: String, hosts: String? = "[web-1, web-2]") -> String {
        """
        hosts:
          - {name: web-1, address: 10.0.0.11}
          - {name: web-2, address: 10.0.0.12}
        apps:
          - name: shop
            listen: 0.0.0.0:8080
            instances: 1
            version: "1.0.0"
        \(hosts.map { "    hosts: \($0)\n" } ?? "")    run:
        \(run.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
        """
    }

    @Test func anArtifactIsAPathPerVersionAndTheCommandRunsFromItsFolder() throws {
        let config = try ConfigFixtures.parse(
            Self.yaml(run: "artifact: dist/shop-{version}.tar.gz\ncommand: [\"{release}/bin/shop\", \"{port}\"]")
        )
        let run = config.apps[0].run
        #expect(run.artifact == ConfigFixtures.baseDirectory + "/dist/shop-{version}.tar.gz")
        #expect(run.artifactPath(version: "2.0.0") == ConfigFixtures.baseDirectory + "/dist/shop-2.0.0.tar.gz")
        let unpacked = run.inRelease("/srv/slipway/releases/shop/2.0.0")
        #expect(
            unpacked.argv(version: "2.0.0", port: 20_001) == ["/srv/slipway/releases/shop/2.0.0/bin/shop", "20001"]
        )
        // The instance starts in its release's folder unless `workingDir` says otherwise.
        #expect(unpacked.workingDirectory == "/srv/slipway/releases/shop/2.0.0")
        let elsewhere = try ConfigFixtures.parse(
            Self.yaml(run: "artifact: /b/shop-{version}\ncommand: [\"{release}/shop-{version}\"]\nworkingDir: /tmp")
        )
        #expect(elsewhere.apps[0].run.inRelease("/r").workingDirectory == "/tmp")
        #expect(elsewhere.apps[0].run.inRelease("/r").argv(version: "3.1", port: 1) == ["/r/shop-3.1"])

        let plain = try ConfigFixtures.parse(Self.yaml(run: "command: [shop, \"{port}\"]")).apps[0].run
        #expect(plain.artifact == nil && plain.artifactPath(version: "1.0.0") == nil)
    }

    @Test func anArtifactNeedsHostsAVersionInItsNameAndTheReleaseFolderNeedsAnArtifact() {
        let here = ConfigFixtures.problems(
            Self.yaml(run: "artifact: dist/shop-{version}.tar.gz\ncommand: [shop]", hosts: nil)
        )
        #expect(
            here == [
                "slipway.yaml:10:17: apps[0].run.artifact: an artifact is sent to the app's hosts, and this app runs "
                    + "on this machine (it has no `hosts`); leave `artifact` out and name the program in `command`"
            ],
            "\(here)"
        )
        let fixed = ConfigFixtures.problems(Self.yaml(run: "artifact: dist/shop.tar.gz\ncommand: [shop]"))
        #expect(
            fixed.contains { $0.contains("apps[0].run.artifact: expected a path with `{version}` in it") },
            "\(fixed)"
        )
        let unknown = ConfigFixtures.problems(Self.yaml(run: "artifact: dist/{app}-{version}.tgz\ncommand: [shop]"))
        #expect(
            unknown.contains {
                $0.contains("apps[0].run.artifact: unknown placeholder `{app}`; the only one is `{version}`")
            },
            "\(unknown)"
        )
        let empty = ConfigFixtures.problems(Self.yaml(run: "artifact: \"\"\ncommand: [shop]"))
        #expect(empty.contains { $0.contains("apps[0].run.artifact: expected the path of a release's file") })
        let folder = ConfigFixtures.problems(Self.yaml(run: "command: [\"{release}/shop\"]"))
        #expect(
            folder.contains {
                $0.contains(
                    "apps[0].run.command: `{release}` is the folder an `artifact` is unpacked in, and this app has "
                        + "no `run.artifact`"
                )
            },
            "\(folder)"
        )
    }
}
