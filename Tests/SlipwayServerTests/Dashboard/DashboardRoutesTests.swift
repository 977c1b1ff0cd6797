import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayServer
import Testing

/// The dashboard's pages as the server sends them (the browser test drives them in Chromium).
@Suite struct DashboardRoutesTests {
    struct TwoApps: DashboardSource {
        func dashboardApps() async -> [DashboardAppSummary] {
            [
                DashboardAppSummary(
                    name: "shop",
                    stable: "1.0.0",
                    healthyInstances: 4,
                    desiredInstances: 3,
                    weights: ["1.0.0": 75, "2.0.0": 25],
                    rollout: "rollout #1 1.0.0 → 2.0.0 (canary): running"
                ),
                DashboardAppSummary(
                    name: "<script>",
                    stable: nil,
                    healthyInstances: 0,
                    desiredInstances: 1,
                    weights: [:],
                    rollout: nil
                ),
            ]
        }
    }

    func withRouter(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: APIRequestContext.self)
        DashboardRoutes(source: TwoApps()).add(to: router)
        try await Application(router: router).test(.router, body)
    }

    @Test func thePageListsEveryAppWithItsWeightsBeforeAnyScriptRuns() async throws {
        try await withRouter { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(response.headers[.cacheControl] == "no-store")
                let html = String(buffer: response.body)
                #expect(html.contains("shop"))
                #expect(html.contains("1.0.0 75%"))
                #expect(html.contains("2.0.0 25%"))
                // Names are escaped, never markup.
                #expect(html.contains("&lt;script&gt;"))
                #expect(!html.contains("<script>\n") && !html.contains(">&lt;script&gt;<script"))
            }
        }
    }

    @Test func theScriptListensForEveryEventKind() async throws {
        try await withRouter { client in
            try await client.execute(uri: "/dashboard.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                let script = String(buffer: response.body)
                for kind in EventKind.allCases {
                    #expect(script.contains("'\(kind.rawValue)'"), "\(kind.rawValue)")
                }
            }
            try await client.execute(uri: "/dashboard.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
        }
    }
}
