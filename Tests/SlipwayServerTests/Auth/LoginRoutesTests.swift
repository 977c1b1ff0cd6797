import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SlipwayServer

@Suite struct LoginRoutesTests {
    @Test func theSignInPageIsOneSelfContainedForm() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            try await client.execute(uri: "/login", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'") == true)
                #expect(response.headers[.cacheControl] == "no-store")
                let html = response.bodyText
                #expect(html.contains("<form method=\"post\" action=\"/login\">"))
                #expect(html.contains("name=\"token\" type=\"password\""))
                #expect(html.components(separatedBy: "<input").count == 2)
                for external in ["<script", "src=", "href=", "http://", "https://", "@import"] {
                    #expect(!html.contains(external), "the page must load nothing: found \(external)")
                }
            }
        }
    }

    @Test func theRightTokenStartsASessionWithTwoStrictCookies() async throws {
        let sessions = SessionStore()
        try await makeAuthApp(token: TestTokens.right, sessions: sessions).test(.router) { client in
            let response = try await client.signIn(TestTokens.right)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/")
            let cookies = response.headers[values: .setCookie]
            #expect(cookies.count == 2)
            let signIn = try #require(SignIn(response))
            #expect(cookies.contains("slipway_session=\(signIn.session); HttpOnly; SameSite=Strict; Path=/"))
            #expect(cookies.contains("slipway_csrf=\(signIn.csrf); SameSite=Strict; Path=/"))
            #expect(sessions.session(id: signIn.session)?.csrfToken == signIn.csrf)
            // Signed in, the sign-in page sends the browser on to the dashboard.
            try await client.execute(uri: "/login", method: .get, headers: [.cookie: signIn.cookieHeader]) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/")
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: signIn.cookieHeader]) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "dashboard")
            }
        }
    }

    @Test func aWrongTokenShowsThePageAgainWithAMessage() async throws {
        let sessions = SessionStore()
        try await makeAuthApp(token: TestTokens.right, sessions: sessions).test(.router) { client in
            let response = try await client.signIn(TestTokens.wrong)
            #expect(response.status == .unauthorized)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            #expect(response.bodyText.contains("That token is not right."))
            #expect(response.bodyText.contains("name=\"token\""))
            #expect(response.headers[values: .setCookie].isEmpty)
            #expect(sessions.count == 0)
        }
    }

    @Test func anEmptyOrMalformedFormIsRefused() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let empty = try await client.signIn("")
            #expect(empty.status == .badRequest)
            #expect(empty.bodyText.contains("Enter the API token."))
            let json = ByteBuffer(string: "{\"token\":\"\(TestTokens.right)\"}")
            try await client.execute(uri: "/login", method: .post, body: json) {
                #expect($0.status == .badRequest)
                #expect($0.headers[values: .setCookie].isEmpty)
            }
            let huge = ByteBuffer(string: "token=" + String(repeating: "a", count: LoginRoutes.maximumFormSize))
            try await client.execute(uri: "/login", method: .post, body: huge) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func repeatedWrongTokensMustWait() async throws {
        let clock = AuthTestClock()
        let throttle = LoginThrottle(now: clock.reading)
        try await makeAuthApp(token: TestTokens.right, throttle: throttle).test(.router) { client in
            for _ in 0..<LoginThrottle.freeAttempts {
                #expect(try await client.signIn(TestTokens.wrong).status == .unauthorized)
            }
            // Even the right token is not checked during the pause.
            let refused = try await client.signIn(TestTokens.right)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.bodyText.contains("Too many wrong tokens. Try again in 1 second."))
            #expect(refused.headers[values: .setCookie].isEmpty)
            clock.advance(by: .seconds(1))
            let admitted = try await client.signIn(TestTokens.right)
            #expect(admitted.status == .seeOther)
            #expect(SignIn(admitted) != nil)
            // The right token cleared the record.
            #expect(try await client.signIn(TestTokens.wrong).status == .unauthorized)
        }
    }

    @Test func signingOutNeedsTheCSRFTokenAndEndsTheSession() async throws {
        let sessions = SessionStore()
        try await makeAuthApp(token: TestTokens.right, sessions: sessions).test(.router) { client in
            let signIn = try #require(SignIn(try await client.signIn(TestTokens.right)))
            let cookie: HTTPFields = [.cookie: signIn.cookieHeader]
            try await client.execute(uri: "/logout", method: .post, headers: cookie) {
                #expect($0.status == .forbidden)
                #expect($0.apiErrorCode == "csrf")
            }
            #expect(sessions.session(id: signIn.session) != nil)
            var headers = cookie
            headers[SessionCookies.csrfHeader] = signIn.csrf
            try await client.execute(uri: "/logout", method: .post, headers: headers) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/login")
                let cookies = response.headers[values: .setCookie]
                #expect(cookies.contains("slipway_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/"))
                #expect(cookies.contains("slipway_csrf=; Max-Age=0; SameSite=Strict; Path=/"))
            }
            #expect(sessions.session(id: signIn.session) == nil)
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func signingOutWithoutASessionOnlyClearsTheCookies() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            try await client.execute(uri: "/logout", method: .post) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/login")
                #expect($0.headers[values: .setCookie].count == 2)
            }
            let headers: HTTPFields = [.authorization: "Bearer \(TestTokens.wrong)"]
            try await client.execute(uri: "/logout", method: .post, headers: headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }
}
