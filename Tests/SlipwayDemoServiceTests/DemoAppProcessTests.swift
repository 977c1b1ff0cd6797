import Foundation
import SlipwayDemoService
import SlipwayTestSupport
import Testing

/// The built `slipway-demo-app` binary, run as a real process on a free loopback port.
@Suite(.timeLimit(.minutes(1))) struct DemoAppProcessTests {
    @Test func servesAndExitsZeroOnSigterm() async throws {
        let port = try LoopbackHTTP.freePort()
        let app = try DemoAppProcess(arguments: ["--port", "\(port)", "--instance", "term-1"])
        defer { app.stop() }
        #expect(try await app.waitUntilAccepting(port: port, timeout: .seconds(20)))
        let reply = try LoopbackHTTP.get(port: port, path: "/")
        #expect(reply.status == 200)
        #expect(reply.body.contains("\"instance\":\"term-1\""))
        app.send(SIGTERM)
        #expect(try await app.waitForExit(timeout: .seconds(10)) == 0)
        let output = app.standardOutput()
        #expect(output.contains("slipway-demo-app demo dev instance term-1 listening on 127.0.0.1:\(port)"))
        #expect(output.contains("GET / 200 "))
    }

    @Test func readsThePlatformEnvironment() async throws {
        let port = try LoopbackHTTP.freePort()
        let app = try DemoAppProcess(
            arguments: [],
            environment: ["PORT": "\(port)", "SLIPWAY_APP": "shop", "SLIPWAY_VERSION": "v7", "SLIPWAY_INSTANCE": "i-9"]
        )
        defer { app.stop() }
        #expect(try await app.waitUntilAccepting(port: port, timeout: .seconds(20)))
        let body = try LoopbackHTTP.get(port: port, path: "/").body
        let identity = try JSONDecoder().decode(IdentityResponse.self, from: Data(body.utf8))
        #expect(identity.app == "shop")
        #expect(identity.version == "v7")
        #expect(identity.instance == "i-9")
        #expect(identity.pid == Int(app.pid))
        #expect(identity.request == 1)
    }

    @Test func flagsWinOverTheEnvironment() async throws {
        let port = try LoopbackHTTP.freePort()
        let app = try DemoAppProcess(
            arguments: ["--port", "\(port)", "--version", "v2"],
            environment: ["PORT": "not-a-port", "SLIPWAY_VERSION": "v1"]
        )
        defer { app.stop() }
        #expect(try await app.waitUntilAccepting(port: port, timeout: .seconds(20)))
        let body = try LoopbackHTTP.get(port: port, path: "/").body
        #expect(try JSONDecoder().decode(IdentityResponse.self, from: Data(body.utf8)).version == "v2")
    }

    @Test func startupDelayHoldsOffListening() async throws {
        let port = try LoopbackHTTP.freePort()
        let app = try DemoAppProcess(arguments: ["--port", "\(port)", "--startup-delay", "2s"])
        defer { app.stop() }
        while ContinuousClock.now - app.launched < .seconds(1) {
            #expect(!LoopbackHTTP.isAccepting(port: port), "accepting before the startup delay passed")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await app.waitUntilAccepting(port: port, timeout: .seconds(20)))
        #expect(ContinuousClock.now - app.launched >= .seconds(2))
        #expect(try LoopbackHTTP.get(port: port, path: "/healthz").body == "ok")
    }

    @Test func crashAfterAnswersThenExitsWithStatusThree() async throws {
        let port = try LoopbackHTTP.freePort()
        let app = try DemoAppProcess(arguments: ["--port", "\(port)"], environment: ["DEMO_CRASH_AFTER": "3"])
        defer { app.stop() }
        #expect(try await app.waitUntilAccepting(port: port, timeout: .seconds(20)))
        for number in 1...3 {
            let reply = try LoopbackHTTP.get(port: port, path: "/")
            #expect(reply.status == 200)
            #expect(reply.body.contains("\"request\":\(number)"))
        }
        let answered = ContinuousClock.now
        #expect(try await app.waitForExit(timeout: .seconds(2)) == 3)
        #expect(ContinuousClock.now - answered < .seconds(2))
        #expect(app.standardError().contains("after request 3"))
    }

    @Test func missingPortExitsTwoWithAMessage() async throws {
        let app = try DemoAppProcess(arguments: [])
        defer { app.stop() }
        #expect(try await app.waitForExit(timeout: .seconds(10)) == 2)
        let message = app.standardError()
        #expect(message.contains("--port"))
        #expect(message.contains("PORT"))
    }

    @Test func badErrorRateExitsTwoNamingTheOption() async throws {
        let app = try DemoAppProcess(arguments: ["--port", "0", "--error-rate", "2"])
        defer { app.stop() }
        #expect(try await app.waitForExit(timeout: .seconds(10)) == 2)
        let expected = "slipway-demo-app: invalid value '2' for --error-rate: expected a number from 0 to 1\n"
        #expect(app.standardError() == expected)
    }

    @Test func badEnvironmentValueExitsTwoNamingTheVariable() async throws {
        let app = try DemoAppProcess(arguments: ["--port", "0"], environment: ["DEMO_LATENCY": "soon"])
        defer { app.stop() }
        #expect(try await app.waitForExit(timeout: .seconds(10)) == 2)
        #expect(app.standardError().contains("DEMO_LATENCY"))
    }
}
