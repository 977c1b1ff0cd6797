import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SlipwayServer

/// A link to a page (a rollout report in a Slack message) survives signing in: the browser comes back to it, and
/// only to a page of this server.
@Suite struct LoginReturnTests {
    @Test func aPageAskedForBeforeSigningInIsWhereTheSignInLeads() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let browser: HTTPFields = [.accept: "text/html"]
            try await client.execute(uri: "/reports/shop/3?x=1", method: .get, headers: browser) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/login?next=/reports/shop/3%3Fx%3D1")
            }
            try await client.execute(uri: "/login?next=/reports/shop/3%3Fx%3D1", method: .get) {
                #expect($0.bodyText.contains(#"<input type="hidden" name="next" value="/reports/shop/3?x=1">"#))
            }
            let form = "token=\(TestTokens.right)&next=%2Freports%2Fshop%2F3"
            let response = try await client.executeRequest(
                uri: "/login",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form)
            )
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/reports/shop/3")
            // A wrong token keeps the destination in the form for the next try.
            let wrong = try await client.executeRequest(
                uri: "/login",
                method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=wrong&next=%2Freports%2Fshop%2F3")
            )
            #expect(wrong.status == .unauthorized)
            #expect(wrong.bodyText.contains(#"name="next" value="/reports/shop/3""#))
        }
    }

    @Test func onlyPathsOfThisServerAreDestinations() {
        #expect(LoginRoutes.destination("/reports/shop/3") == "/reports/shop/3")
        #expect(LoginRoutes.destination("/?a=b") == "/?a=b")
        for outside in [
            nil, "", "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
            "/a\r\nLocation: x", "reports/shop/3", "/a\\b",
        ] {
            #expect(LoginRoutes.destination(outside) == "/", "\(String(describing: outside))")
        }
    }

    @Test func theFormTakesTheFirstTokenAndNextAndIgnoresEverythingElse() {
        let form = LoginForm("x=1&x=2&token=a%2Bb+c&next=%2Freports%2Fshop%2F1&token=second&%F1=%ZZ")
        #expect(form.token == "a+b c" && form.next == "/reports/shop/1")
        #expect(LoginForm("").token == nil && LoginForm("token").token == "")
    }
}
