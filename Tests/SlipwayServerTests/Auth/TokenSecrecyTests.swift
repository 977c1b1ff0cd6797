import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SlipwayServer

/// The token must never reach a log line, a response or an error, whether it was right or wrong.
@Suite struct TokenSecrecyTests {
    @Test func neitherARightNorAWrongTokenIsLoggedOrEchoed() async throws {
        let log = CapturedLog()
        let app = makeAuthApp(token: TestTokens.right, logger: log.logger())
        let seen = try await app.test(.router) { client in
            var responses: [TestResponse] = []
            for token in [TestTokens.wrong, TestTokens.right] {
                let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
                responses.append(
                    try await client.executeRequest(uri: "/api/v1/whoami", method: .get, headers: bearer, body: nil)
                )
                responses.append(
                    try await client.executeRequest(uri: "/api/v1/deploy", method: .post, headers: bearer, body: nil)
                )
                responses.append(try await client.signIn(token))
            }
            let signIn = try #require(SignIn(try await client.signIn(TestTokens.right)))
            let cookie: HTTPFields = [.cookie: signIn.cookieHeader]
            responses.append(
                try await client.executeRequest(uri: "/api/v1/deploy", method: .post, headers: cookie, body: nil)
            )
            responses.append(try await client.executeRequest(uri: "/logout", method: .post, headers: cookie, body: nil))
            return responses
        }
        #expect(seen.map(\.status.code) == [401, 401, 401, 200, 200, 303, 403, 403])
        // The refusals were logged, without the token.
        #expect(log.text.contains("refused a request with a wrong API token"))
        #expect(log.text.contains("refused a sign-in with a wrong API token"))
        for secret in [TestTokens.right, TestTokens.wrong] {
            #expect(!log.text.contains(secret))
            for response in seen {
                #expect(!response.bodyText.contains(secret))
                #expect(!response.headers.contains { $0.value.contains(secret) })
            }
        }
    }

    @Test func errorsNameWhereTheTokenComesFromNeverItsValue() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-secrecy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/token"
        // Not UTF-8, with the token inside: the error must not quote the content.
        try (Data(TestTokens.right.utf8) + Data([0xFF])).write(to: URL(fileURLWithPath: path))
        do {
            _ = try APIToken.read(from: .file(path))
            Issue.record("an unreadable token must be refused")
        } catch {
            #expect(error.description.contains(path))
            #expect(!error.description.contains(TestTokens.right))
        }
    }
}
