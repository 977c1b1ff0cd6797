import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayDemoService
import Testing

/// `GET /` calling a slow dependency, with and without a timeout.
@Suite struct DemoDependencyTests {
    /// Runs a dependency answering after `latency` on a free loopback port, and `body` with its URL.
    private func withSlowDependency(
        latency: Duration,
        _ body: @Sendable (String) async throws -> Void
    ) async throws {
        var options = DemoOptions()
        options.latency = latency
        options.port = 0
        let dependency = DemoService(options: options, hooks: RecordingHooks().hooks)
        try await dependency.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)/")
        }
    }

    private func service(dependency: String, timeout: Duration?) -> DemoService {
        var options = DemoOptions()
        options.dependency = dependency
        options.dependencyTimeout = timeout
        return DemoService(options: options, hooks: RecordingHooks().hooks)
    }

    @Test func aTimeoutAnswersWithoutASlowDependency() async throws {
        // A dependency far slower than the timeout, so that a busy machine cannot blur the two.
        try await withSlowDependency(latency: .seconds(3)) { url in
            let service = service(dependency: url, timeout: .milliseconds(100))
            try await service.makeApplication().test(.router) { client in
                let start = ContinuousClock.now
                let body = try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(IdentityResponse.self, from: response.body)
                }
                #expect(ContinuousClock.now - start < .milliseconds(2_500))
                #expect(body.dependency == "timed out: answered without it")
            }
        }
    }

    @Test func withoutATimeoutTheAnswerWaitsForTheDependency() async throws {
        try await withSlowDependency(latency: .milliseconds(800)) { url in
            let service = service(dependency: url, timeout: nil)
            try await service.makeApplication().test(.router) { client in
                let start = ContinuousClock.now
                let body = try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(IdentityResponse.self, from: response.body)
                }
                #expect(ContinuousClock.now - start >= .milliseconds(800))
                #expect(body.dependency == "answered 200")
            }
        }
    }

    @Test func anUnreachableDependencyAnswers502() async throws {
        // Port 9 (discard) on loopback: nothing listens there in the test machines.
        let service = service(dependency: "http://127.0.0.1:9/", timeout: .seconds(2))
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .badGateway)
                #expect(String(buffer: response.body).hasPrefix("the dependency failed"))
            }
        }
    }

    @Test func badDependencySettingsAreRefused() {
        var options = DemoOptions()
        #expect(throws: DemoOptionError.self) { try options.set(.dependency, to: "ftp://x", from: .flag) }
        #expect(throws: DemoOptionError.self) { try options.set(.dependencyTimeout, to: "0s", from: .environment) }
        #expect(options.dependency == nil && options.dependencyTimeout == nil)
        #expect(throws: Never.self) { try options.set(.dependencyTimeout, to: "150ms", from: .flag) }
        #expect(options.dependencyTimeout == .milliseconds(150))
    }
}
