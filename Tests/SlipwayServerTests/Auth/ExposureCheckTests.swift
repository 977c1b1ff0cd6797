import SlipwayConfig
import Testing

@testable import SlipwayServer

@Suite struct ExposureCheckTests {
    @Test(arguments: [
        "127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost", "LocalHost",
        "::ffff:127.0.0.1",
    ])
    func loopbackAddresses(host: String) {
        #expect(Preflight.isLoopback(host))
    }

    @Test(arguments: [
        "0.0.0.0", "::", "10.0.0.1", "192.168.1.20", "128.0.0.1", "126.255.255.255", "fe80::1", "::2",
        "::ffff:10.0.0.1", "example.com", "localhost.example.com", "",
    ])
    func otherAddresses(host: String) {
        #expect(!Preflight.isLoopback(host))
    }

    @Test func anExposedAPIWithoutATokenIsRefused() {
        let config = config(api: HostPort(host: "0.0.0.0", port: 7070), token: nil)
        let problems = Preflight.checkExposure(config)
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == "controller.api")
        #expect(problems.first?.line == 2)
        #expect(
            problems.first?.message
                == "0.0.0.0:7070 is reachable from other machines, so controller.token is required: set "
                + "controller.token ({env: NAME} or {file: PATH}), or bind controller.api to a loopback address "
                + "such as 127.0.0.1:7070"
        )
        // `slipway validate` and `slipway up` both report it.
        #expect(Preflight.checkFiles(config) == problems)
    }

    @Test func aTokenOrALoopbackAddressIsEnough() {
        let exposed = HostPort(host: "10.1.2.3", port: 7070)
        #expect(Preflight.checkExposure(config(api: exposed, token: .environment("SLIPWAY_TOKEN"))).isEmpty)
        #expect(Preflight.checkExposure(config(api: exposed, token: .file("/etc/slipway/token"))).isEmpty)
        #expect(Preflight.checkExposure(config(api: ControllerSpec.defaultAPI, token: nil)).isEmpty)
        #expect(Preflight.checkExposure(config(api: HostPort(host: "::1", port: 7070), token: nil)).isEmpty)
    }

    private func config(api: HostPort, token: TokenSource?) -> SlipwayConfig {
        SlipwayConfig(
            file: "slipway.yaml",
            baseDirectory: "/",
            controller: ControllerSpec(
                api: api,
                stateDirectory: "/tmp/state",
                token: token,
                location: SourceLocation(line: 2, column: 3)
            ),
            apps: []
        )
    }
}
