import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayCore
import SlipwayServer
import SlipwayStore
import Testing

/// The report's two URLs over a real event log.
@Suite struct ReportRoutesTests {
    @Test func thePageAndItsJSONAreServedForAKnownRollout() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            try await client.execute(uri: "/reports/shop/1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                // Inline styles only: no script may run, nothing may load, the page is never framed.
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.hasPrefix("default-src 'none'; style-src 'unsafe-inline'"))
                #expect(policy.contains("frame-ancestors 'none'") && !policy.contains("script-src"))
                #expect(String(buffer: response.body).contains("shop · rollout #1 · 1.0.0 → 2.0.0"))
            }
            try await client.execute(uri: "/api/v1/apps/shop/rollouts/1/report", method: .get) { response in
                #expect(response.status == .ok)
                let report = try decodeAPI(RolloutReport.self, response)
                #expect(report.rollout == 1 && report.record.to == "2.0.0" && report.candidates == ["2.0.0"])
            }
        }
    }

    @Test func anUnknownAppOrRolloutIs404AndABadNumber400() async throws {
        let reading = try FixedReading()
        try reading.appendShopHistory()
        try await apiApplication(reading).test(.router) { client in
            for uri in ["/reports/shop/99", "/api/v1/apps/shop/rollouts/99/report"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    let message = try apiError(response).error.message
                    #expect(message.contains("has no rollout #99 (its rollouts are #1 to #"), "\(message)")
                }
            }
            try await client.execute(uri: "/reports/nope/1", method: .get) { response in
                #expect(response.status == .notFound)
                let message = try apiError(response).error.message
                #expect(message == "no app named \"nope\"")
            }
            for bad in ["0", "x", "-1", "1.5"] {
                try await client.execute(uri: "/api/v1/apps/shop/rollouts/\(bad)/report", method: .get) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
            try await client.execute(uri: "/reports/shop/1?extra=1", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
