import Foundation
import SlipwayConfig
import Testing

@Suite("Valid configuration files")
struct ValidConfigTests {
    @Test func minimalFileGetsDefaults() throws {
        let config = try ConfigFixtures.parse(ConfigFixtures.minimal)
        #expect(config.file == "slipway.yaml")
        #expect(config.baseDirectory == "/srv/shop")
        #expect(config.controller.api == HostPort(host: "127.0.0.1", port: 7070))
        #expect(config.controller.stateDirectory == "/srv/shop/.slipway")
        // Secure by default: a token of the controller's own; `token: none` asks for an open API.
        #expect(config.controller.token == .generated)
        let open = try ConfigFixtures.parse("controller:\n  token: none\n" + ConfigFixtures.minimal)
        #expect(open.controller.token == nil)
        #expect(config.controller.proxyThreads == ControllerSpec.defaultProxyThreads)
        #expect(config.controller.location == SourceLocation(line: 1, column: 1))

        let app = try #require(config.apps.first)
        #expect(config.apps.count == 1)
        #expect(app.index == 0)
        #expect(app.name == "shop")
        #expect(app.listen == HostPort(host: "127.0.0.1", port: 8080))
        #expect(app.instances == 3)
        #expect(app.version == "1.0.0")
        #expect(app.run == RunSpec(command: ["shop-server", "--port", "{port}"]))
        #expect(app.run.env.isEmpty)
        #expect(app.run.workingDirectory == nil)
        #expect(app.run.stopSignal == .terminate)
        #expect(app.run.stopGracePeriod == .seconds(10))
        #expect(app.health == HealthCheckSpec())
        #expect(app.health.path == "/healthz")
        #expect(app.health.interval == .seconds(1))
        #expect(app.health.timeout == .milliseconds(500))
        #expect(app.health.healthyThreshold == 1)
        #expect(app.health.unhealthyThreshold == 3)
        #expect(app.health.startDeadline == .seconds(30))
        #expect(app.restart.initialBackoff == .seconds(1))
        #expect(app.restart.maxBackoff == .seconds(30))
        #expect(app.restart.resetAfter == .seconds(60))
        #expect(app.logs.maxBytes == 10 * 1024 * 1024)
        #expect(app.logs.keep == 2)
        #expect(app.proxy == ProxySpec())
        #expect(app.proxy.maxConnections == 10_000)
        #expect(app.proxy.maxHeaderBytes == 32 * 1024)
        #expect(app.proxy.maxRequestLineBytes == 8 * 1024)
        #expect(app.proxy.idleTimeout == .seconds(60))
        #expect(app.proxy.headerTimeout == .seconds(10))
        #expect(app.proxy.connectTimeout == .seconds(2))
        #expect(app.proxy.responseTimeout == .seconds(30))
        #expect(app.proxy.drainTimeout == .seconds(30))
        #expect(app.proxy.upstreamConnections == 256)
        #expect(app.proxy.idleUpstreamConnections == 256)
    }

    @Test func proxyThreadsDefaultToTheCoreCount() {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        #expect(ControllerSpec.maximumProxyThreads == 64)
        #expect(ControllerSpec.defaultProxyThreads == min(max(cores, 1), 64))
        #expect((1...64).contains(ControllerSpec.defaultProxyThreads))
        #expect(ControllerSpec(stateDirectory: "/srv").proxyThreads == ControllerSpec.defaultProxyThreads)
    }

    @Test func fullFileReadsEveryKey() throws {
        let yaml = """
            controller:
              api: 0.0.0.0:9000
              stateDir: ../state
              token: { file: secrets/token }
              proxyThreads: 8
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                instances: 3
                version: "1.0.0"
                run:
                  command: [slipway-demo-app, --port, "{port}", --version, "{version}", --workers, 4]
                  env: { GREETING: hello, WORKERS: 4, DEBUG: true, EMPTY: "" }
                  workingDir: ./shop
                  stopSignal: INT
                  stopGracePeriod: 5s
                health: { path: /ready, interval: 2s, timeout: 1500ms, healthyThreshold: 2, unhealthyThreshold: 5,
                          startDeadline: 1m30s }
                restart: { initialBackoff: 500ms, maxBackoff: 1m, resetAfter: 2m }
                logs: { maxBytes: 512KiB, keep: 0 }
                proxy:
                  maxConnections: 500
                  maxHeaderBytes: 16KiB
                  maxRequestLineBytes: 4096
                  idleTimeout: 90s
                  headerTimeout: 5s
                  connectTimeout: 250ms
                  responseTimeout: 1m
                  drainTimeout: 0
                  upstreamConnections: 32
                  idleUpstreamConnections: 0
              - name: admin-2
                listen: "[::1]:8081"
                instances: 1
                version: 2.0.0-rc.1+build.5
                run:
                  command: [/usr/bin/admin]
                  stopSignal: sigusr2
            """
        let config = try ConfigFixtures.parse(yaml)
        #expect(config.controller.api == HostPort(host: "0.0.0.0", port: 9000))
        #expect(config.controller.stateDirectory == "/srv/state")
        #expect(config.controller.token == .file("/srv/shop/secrets/token"))
        #expect(config.controller.proxyThreads == 8)
        #expect(config.controller.location == SourceLocation(line: 2, column: 3))

        let shop = try #require(config.app(named: "shop"))
        #expect(
            shop.run
                == RunSpec(
                    command: ["slipway-demo-app", "--port", "{port}", "--version", "{version}", "--workers", "4"],
                    env: ["GREETING": "hello", "WORKERS": "4", "DEBUG": "true", "EMPTY": ""],
                    workingDirectory: "/srv/shop/shop",
                    stopSignal: .interrupt,
                    stopGracePeriod: .seconds(5)
                )
        )
        #expect(
            shop.health
                == HealthCheckSpec(
                    path: "/ready",
                    interval: .seconds(2),
                    timeout: .milliseconds(1500),
                    healthyThreshold: 2,
                    unhealthyThreshold: 5,
                    startDeadline: .seconds(90)
                )
        )
        #expect(
            shop.restart
                == RestartSpec(
                    initialBackoff: .milliseconds(500),
                    maxBackoff: .seconds(60),
                    resetAfter: .seconds(120)
                )
        )
        #expect(shop.logs == LogSpec(maxBytes: 512 * 1024, keep: 0))
        #expect(
            shop.proxy
                == ProxySpec(
                    maxConnections: 500,
                    maxHeaderBytes: 16 * 1024,
                    maxRequestLineBytes: 4096,
                    idleTimeout: .seconds(90),
                    headerTimeout: .seconds(5),
                    connectTimeout: .milliseconds(250),
                    responseTimeout: .seconds(60),
                    drainTimeout: .zero,
                    upstreamConnections: 32,
                    idleUpstreamConnections: 0
                )
        )

        let admin = try #require(config.app(named: "admin-2"))
        #expect(admin.index == 1)
        #expect(admin.listen == HostPort(host: "::1", port: 8081))
        #expect(admin.version == "2.0.0-rc.1+build.5")
        #expect(admin.run.stopSignal == .user2)
        #expect(admin.proxy == ProxySpec())
        #expect(config.app(named: "nope") == nil)
    }

    @Test func tokenFromEnvironment() throws {
        let yaml = "controller:\n  token: { env: SLIPWAY_TOKEN }\n" + ConfigFixtures.minimal
        #expect(try ConfigFixtures.parse(yaml).controller.token == .environment("SLIPWAY_TOKEN"))
    }

    @Test func versionKeepsItsTextEvenWhenYAMLReadsANumber() throws {
        let yaml = ConfigFixtures.minimal.replacingOccurrences(of: "\"1.0.0\"", with: "1.10")
        #expect(try ConfigFixtures.parse(yaml).apps[0].version == "1.10")
    }

    @Test func emptySectionsMeanDefaults() throws {
        let yaml = ConfigFixtures.minimal + "\n      env:\n    health:\n    restart:\n    logs:\n    proxy:"
        let app = try ConfigFixtures.parse(yaml).apps[0]
        #expect(app.health == HealthCheckSpec())
        #expect(app.restart == RestartSpec())
        #expect(app.logs == LogSpec())
        #expect(app.proxy == ProxySpec())
        #expect(app.run.env.isEmpty)
    }

    @Test func appLocationsAndKeyPaths() throws {
        let app = try ConfigFixtures.parse(ConfigFixtures.minimal).apps[0]
        #expect(app.keyPath("") == "apps[0]")
        #expect(app.keyPath("health.interval") == "apps[0].health.interval")
        #expect(app.keyPath("run.command[2]") == "apps[0].run.command[2]")
        #expect(app.location("") == SourceLocation(line: 2, column: 5))
        #expect(app.location("name") == SourceLocation(line: 2, column: 11))
        #expect(app.location("instances") == SourceLocation(line: 4, column: 16))
        #expect(app.location("run") == SourceLocation(line: 7, column: 7))
        #expect(app.location("run.command") == SourceLocation(line: 7, column: 16))
        #expect(app.location("run.command[2]") == SourceLocation(line: 7, column: 38))
        // Keys absent from the file fall back to their nearest parent, then to the app.
        #expect(app.location("run.command[9]") == SourceLocation(line: 7, column: 16))
        #expect(app.location("health.interval") == SourceLocation(line: 2, column: 5))
    }

    @Test func proxyLocationsAndKeyPaths() throws {
        let yaml = ConfigFixtures.appProblemsYAML("proxy:\n  idleTimeout: 90s\n  maxHeaderBytes: 16KiB")
        let app = try ConfigFixtures.parse(yaml).apps[0]
        #expect(app.proxy == ProxySpec(maxHeaderBytes: 16 * 1024, idleTimeout: .seconds(90)))
        #expect(app.keyPath("proxy.idleTimeout") == "apps[0].proxy.idleTimeout")
        #expect(app.location("proxy") == SourceLocation(line: 9, column: 7))
        #expect(app.location("proxy.idleTimeout") == SourceLocation(line: 9, column: 20))
        #expect(app.location("proxy.maxHeaderBytes") == SourceLocation(line: 10, column: 23))
        // An absent key falls back to the section.
        #expect(app.location("proxy.drainTimeout") == SourceLocation(line: 9, column: 7))
    }

    @Test func exampleFileLoads() throws {
        let path = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        let example = "/" + path + "/examples/slipway.yaml"
        let config: SlipwayConfig
        do {
            config = try ConfigLoader.load(file: example)
        } catch {
            Issue.record("examples/slipway.yaml: \(error)")
            return
        }
        #expect(config.baseDirectory == "/" + path + "/examples")
        #expect(config.controller.api == HostPort(host: "127.0.0.1", port: 7070))
        #expect(config.controller.stateDirectory == "/" + path + "/examples/.slipway")
        let shop = try #require(config.app(named: "shop"))
        #expect(config.apps.count == 1)
        #expect(shop.listen == HostPort(host: "127.0.0.1", port: 8080))
        #expect(shop.instances == 3)
        #expect(shop.version == "1.0.0")
        #expect(shop.run.command == ["slipway-demo-app", "--port", "{port}", "--version", "{version}"])
        #expect(shop.health == HealthCheckSpec(startDeadline: .seconds(15)))
        #expect(shop.restart == RestartSpec())
        #expect(shop.proxy == ProxySpec())
        #expect(config.controller.proxyThreads == ControllerSpec.defaultProxyThreads)
    }
}
