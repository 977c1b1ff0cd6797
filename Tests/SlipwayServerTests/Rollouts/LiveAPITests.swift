import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayServer
import SlipwayTestSupport
import Testing

extension LiveRollouts {
    /// The controller's API and the CLI over it, against a live controller that requires a token.
    @Suite struct LiveAPITests {
        static let token = "live-api-test-token-3c1f"

        struct Answer {
            var status: Int
            var body: String
        }

        func request(
            _ client: HTTPClient,
            _ method: HTTPMethod,
            _ url: String,
            token: String? = LiveAPITests.token,
            body: String? = nil
        ) async throws -> Answer {
            var request = HTTPClientRequest(url: url)
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await client.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: String(buffer: bytes))
        }

        /// Runs the built `slipway` with `environment` (no other `SLIPWAY_*` variable), bounded.
        func slipway(
            _ arguments: [String],
            environment: [String: String],
            seconds: Double = 60
        ) async throws -> (status: Int32, stdout: String, stderr: String) {
            let run = try await SlipwayBinary.run(arguments, environment: environment, seconds: seconds, signal: SIGINT)
            return (run.status, run.stdout, run.stderr)
        }

        @Test func theAPIAndTheCLIDriveARolloutWithTheTokenRequiredEverywhere() async throws {
            setenv("SLIPWAY_LIVE_API_TOKEN", Self.token, 1)
            let apiPort = try LoopbackHTTP.freePort()
            let yaml = ControllerFixture.demoConfig(
                extra: RolloutConfig.app(
                    strategy: """
                        canary:
                          steps:
                            - weight: 25
                            - pause: {}
                        """
                ),
                apiPort: apiPort
            ).replacingOccurrences(
                of: "  stateDir: state\n",
                with: "  stateDir: state\n  token: {env: SLIPWAY_LIVE_API_TOKEN}\n"
            )
            let fixture = try await ControllerFixture(yaml: yaml)
            try await fixture.waitUntilServing()
            let base = "http://127.0.0.1:\(apiPort)"
            let url = ["--url", base]
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)

            // Every API route needs the token; /healthz does not.
            #expect(try await request(client, .GET, base + "/healthz", token: nil).status == 200)
            for path in ["/api/v1/apps", "/api/v1/apps/shop", "/api/v1/events?app=shop", "/api/v1/apps/shop/rollout"] {
                #expect(try await request(client, .GET, base + path, token: nil).status == 401, "\(path)")
                #expect(try await request(client, .GET, base + path, token: "wrong").status == 401, "\(path)")
            }
            #expect(
                try await request(
                    client,
                    .POST,
                    base + "/api/v1/apps/shop/deploy",
                    token: nil,
                    body: "{\"version\":\"2\"}"
                ).status == 401
            )
            let apps = try await request(client, .GET, base + "/api/v1/apps")
            #expect(apps.status == 200)
            #expect(apps.body.contains("\"name\":\"shop\""))
            #expect(!apps.body.contains(Self.token))
            // Bad input names the field and changes nothing; an unknown app is 404.
            let unknownField = try await request(
                client,
                .POST,
                base + "/api/v1/apps/shop/deploy",
                body: "{\"version\":\"2.0.0\",\"colour\":\"blue\"}"
            )
            #expect(unknownField.status == 400)
            #expect(unknownField.body.contains("colour"))
            #expect(try await request(client, .GET, base + "/api/v1/apps/nope").status == 404)
            #expect(try await request(client, .GET, base + "/api/v1/apps/shop/rollout").status == 404)

            // The CLI: a wrong token is exit 4 with one line; the right one deploys.
            let refused = try await slipway(
                ["deploy", "shop", "--version", "2.0.0"] + url,
                environment: ["SLIPWAY_TOKEN": "wrong"]
            )
            #expect(refused.status == 4)
            #expect(refused.stderr.split(separator: "\n").count == 1)
            #expect(refused.stderr.contains("refused the credentials (401)"))
            #expect(!refused.stderr.contains(Self.token))
            let deployed = try await slipway(
                ["deploy", "shop", "--version", "2.0.0", "--reason", "live test"] + url,
                environment: ["SLIPWAY_TOKEN": Self.token]
            )
            #expect(deployed.status == 0, "\(deployed.stderr)")
            // A second deploy conflicts: 409 over HTTP, exit 1 from the CLI.
            let conflict = try await request(
                client,
                .POST,
                base + "/api/v1/apps/shop/deploy",
                body: "{\"version\":\"3.0.0\"}"
            )
            #expect(conflict.status == 409)
            try await waitUntil("the canary holds at 25%") {
                try await fixture.controller.rollout(app: "shop")?.stepDescription == "pause until promote"
            }

            // `status --watch --json` follows the stream: one line per change.
            let watching = try await slipway(
                ["status", "shop", "--watch", "--json"] + url,
                environment: ["SLIPWAY_TOKEN": Self.token],
                seconds: 3
            )
            let first = try #require(watching.stdout.split(separator: "\n").first)
            #expect(first.contains("\"stable\":\"1.0.0\""))
            #expect(first.contains("\"2.0.0\":25"))
            let unreachable = try await slipway(
                ["status", "shop", "--watch", "--url", "http://127.0.0.1:\(try LoopbackHTTP.freePort())"],
                environment: ["SLIPWAY_TOKEN": Self.token],
                seconds: 10
            )
            #expect(unreachable.status == 4)
            #expect(unreachable.stderr.contains("cannot reach the controller"))

            // promote --full, then wait: exit 0 on promotion.
            let promoted = try await slipway(
                ["promote", "shop", "--full"] + url,
                environment: ["SLIPWAY_TOKEN": Self.token]
            )
            #expect(promoted.status == 0, "\(promoted.stderr)")
            #expect(try await fixture.waitForOutcome().state == "promoted")
            let history = try await request(client, .GET, base + "/api/v1/apps/shop/rollouts")
            #expect(history.body.contains("\"outcome\":\"promoted\""))
            #expect(history.body.contains("live test"))
            try await client.shutdown()
            try await fixture.stop()
            unsetenv("SLIPWAY_LIVE_API_TOKEN")
        }
    }
}
