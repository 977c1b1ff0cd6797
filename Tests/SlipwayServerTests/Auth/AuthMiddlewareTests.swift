import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SlipwayServer

@Suite struct AuthMiddlewareTests {
    @Test func aRequestWithoutCredentialsIsRefusedWithAChallenge() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            try await client.execute(uri: "/api/v1/whoami", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"slipway\"")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(response.apiErrorCode == "unauthorized")
            }
        }
    }

    @Test func aWrongTokenIsRefused() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            for value in ["Bearer \(TestTokens.wrong)", "Bearer \(TestTokens.right)x", "Bearer x", "Bearer "] {
                try await client.execute(uri: "/api/v1/whoami", method: .get, headers: [.authorization: value]) {
                    #expect($0.status == .unauthorized)
                    #expect($0.headers[.wwwAuthenticate] == "Bearer realm=\"slipway\"")
                    #expect($0.apiErrorCode == "unauthorized")
                }
            }
        }
    }

    @Test func theRightTokenIsLetThroughAsTheTokenPrincipal() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            for scheme in ["Bearer", "bearer"] {
                let headers: HTTPFields = [.authorization: "\(scheme) \(TestTokens.right)"]
                try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) {
                    #expect($0.status == .ok)
                    #expect($0.bodyText == "token")
                }
            }
            // A state change with the token needs no CSRF token.
            let headers: HTTPFields = [.authorization: "Bearer \(TestTokens.right)"]
            try await client.execute(uri: "/api/v1/deploy", method: .post, headers: headers) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "deployed by token")
            }
        }
    }

    @Test func anotherAuthorizationSchemeCountsAsNoCredentials() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let headers: HTTPFields = [
                .authorization: "Basic \(Data("a:\(TestTokens.right)".utf8).base64EncodedString())"
            ]
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func aBrowserAskingForAPageIsSentToTheSignInPage() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let browser: HTTPFields = [.accept: "text/html,application/xhtml+xml,*/*;q=0.8"]
            try await client.execute(uri: "/", method: .get, headers: browser) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/login")
            }
            // The API answers JSON even to a browser, and a POST is never redirected.
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: browser) {
                #expect($0.status == .unauthorized)
                #expect($0.apiErrorCode == "unauthorized")
            }
            try await client.execute(uri: "/", method: .post, headers: browser) {
                #expect($0.status == .unauthorized)
            }
            // A client that does not ask for HTML gets the 401.
            try await client.execute(uri: "/", method: .get) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func anUnknownSessionCookieCountsAsNoCredentials() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let headers: HTTPFields = [.cookie: "slipway_session=\(SessionStore.randomToken())"]
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func aSignedInBrowserNeedsTheCSRFTokenForStateChanges() async throws {
        let sessions = SessionStore()
        try await makeAuthApp(token: TestTokens.right, sessions: sessions).test(.router) { client in
            let signIn = try #require(SignIn(try await client.signIn(TestTokens.right)))
            let cookie: HTTPFields = [.cookie: signIn.cookieHeader]
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: cookie) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "session:\(signIn.session)")
            }
            try await client.execute(uri: "/api/v1/deploy", method: .post, headers: cookie) {
                #expect($0.status == .forbidden)
                #expect($0.apiErrorCode == "csrf")
            }
            var wrong = cookie
            wrong[SessionCookies.csrfHeader] = signIn.csrf + "x"
            try await client.execute(uri: "/api/v1/deploy", method: .post, headers: wrong) {
                #expect($0.status == .forbidden)
                #expect($0.apiErrorCode == "csrf")
            }
            var other = cookie
            other[SessionCookies.csrfHeader] = SessionStore.randomToken()
            try await client.execute(uri: "/api/v1/deploy", method: .post, headers: other) {
                #expect($0.status == .forbidden)
            }
            var right = cookie
            right[SessionCookies.csrfHeader] = signIn.csrf
            try await client.execute(uri: "/api/v1/deploy", method: .post, headers: right) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "deployed by session:\(signIn.session)")
            }
            for method in [HTTPRequest.Method.put, .patch, .delete] {
                try await client.execute(uri: "/api/v1/deploy", method: method, headers: cookie) {
                    #expect($0.status == .forbidden)
                }
            }
        }
    }

    @Test func aWrongTokenIsRefusedEvenWithALiveSession() async throws {
        try await makeAuthApp(token: TestTokens.right).test(.router) { client in
            let signIn = try #require(SignIn(try await client.signIn(TestTokens.right)))
            let headers: HTTPFields = [.cookie: signIn.cookieHeader, .authorization: "Bearer \(TestTokens.wrong)"]
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func withoutATokenConfiguredEverythingIsOpen() async throws {
        try await makeAuthApp(token: nil).test(.router) { client in
            try await client.execute(uri: "/api/v1/whoami", method: .get) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "token")
            }
            try await client.execute(uri: "/api/v1/deploy", method: .post) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/", method: .get, headers: [.accept: "text/html"]) {
                #expect($0.status == .ok)
                #expect($0.bodyText == "dashboard")
            }
            try await client.execute(uri: "/login", method: .get) {
                #expect($0.status == .seeOther)
                #expect($0.headers[.location] == "/")
            }
            let signIn = try await client.signIn("anything")
            #expect(signIn.status == .seeOther)
            #expect(signIn.headers[.location] == "/")
            #expect(signIn.headers[values: .setCookie].isEmpty)
        }
    }

    @Test func anIdleSessionExpiresAfterTwelveHours() async throws {
        let clock = AuthTestClock()
        let sessions = SessionStore(now: clock.reading)
        try await makeAuthApp(token: TestTokens.right, sessions: sessions).test(.router) { client in
            let signIn = try #require(SignIn(try await client.signIn(TestTokens.right)))
            let cookie: HTTPFields = [.cookie: signIn.cookieHeader]
            clock.advance(by: .seconds(12 * 3600 - 1))
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: cookie) {
                #expect($0.status == .ok)
            }
            // That use restarted the 12 hours.
            clock.advance(by: .seconds(12 * 3600 - 1))
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: cookie) {
                #expect($0.status == .ok)
            }
            clock.advance(by: .seconds(12 * 3600))
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: cookie) {
                #expect($0.status == .unauthorized)
            }
            #expect(sessions.count == 0)
        }
    }

    @Test func theBearerHeaderIsParsedStrictly() {
        #expect(RequestAuthenticator.bearerToken("Bearer abc") == "abc")
        #expect(RequestAuthenticator.bearerToken("BEARER   abc") == "abc")
        #expect(RequestAuthenticator.bearerToken("Bearer") == nil)
        #expect(RequestAuthenticator.bearerToken("Bearer ") == nil)
        #expect(RequestAuthenticator.bearerToken("Bearerabc") == nil)
        #expect(RequestAuthenticator.bearerToken("Basic abc") == nil)
        #expect(RequestAuthenticator.bearerToken(nil) == nil)
    }
}
