import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

@testable import SlipwayServer

/// The token the tests configure, and one that is wrong.
enum TestTokens {
    static let right = "correct-horse-battery-staple-7f3a9c"
    static let wrong = "incorrect-mule-battery-staple-1b2d4e"
}

/// A clock the tests move by hand.
final class AuthTestClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(by duration: Duration) {
        instant.withLock { $0 += duration }
    }

    /// The clock as the stores take it.
    var reading: @Sendable () -> ContinuousClock.Instant { { self.now } }
}

/// Every log line written through the loggers it makes, metadata included.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    var isEmpty: Bool { lines.withLock { $0.isEmpty } }

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    /// A logger at trace level that writes here.
    func logger() -> Logger {
        var logger = Logger(label: "slipway.test") { label in Handler(label: label, sink: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let label: String
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.append("\(event.level) \(label): \(event.message) \(rendered)")
        }
    }
}

/// A router like the controller's: public `/healthz` and the sign-in routes, then a group behind
/// `AuthMiddleware` with the dashboard page and API endpoints that say who asked.
func makeAuthApp(
    token: String?,
    sessions: SessionStore = SessionStore(),
    throttle: LoginThrottle = LoginThrottle(),
    logger: Logger = quietAuthLogger
) -> some ApplicationProtocol {
    let apiToken = token.flatMap(APIToken.init)
    let router = Router(context: APIRequestContext.self)
    router.get("healthz") { _, _ in "ok\n" }
    LoginRoutes(token: apiToken, sessions: sessions, throttle: throttle).add(to: router)
    let protected = router.group().add(middleware: AuthMiddleware(token: apiToken, sessions: sessions))
    protected.get("/") { _, _ in "dashboard" }
    protected.post("/") { _, _ in "posted" }
    protected.get("reports/{app}/{rollout}") { _, _ in "report" }
    protected.get("api/v1/whoami") { _, context in describe(context.principal) }
    for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
        protected.on("api/v1/deploy", method: method) { _, context in "deployed by \(describe(context.principal))" }
    }
    return Application(router: router, logger: logger)
}

/// A logger that keeps the test output clean.
let quietAuthLogger = {
    var logger = Logger(label: "slipway.test")
    logger.logLevel = .critical
    return logger
}()

private func describe(_ principal: Principal?) -> String {
    switch principal {
    case .token: "token"
    case .session(let id): "session:\(id)"
    case nil: "nobody"
    }
}

/// The cookies a sign-in set, by name.
struct SignIn {
    var session: String
    var csrf: String

    /// A `Cookie` header that presents both.
    var cookieHeader: String { "slipway_session=\(session); slipway_csrf=\(csrf)" }

    /// Reads the two cookies from `response`'s `Set-Cookie` headers.
    init?(_ response: TestResponse) {
        var values: [String: String] = [:]
        for header in response.headers[values: .setCookie] {
            let pair = header.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        guard let session = values["slipway_session"], let csrf = values["slipway_csrf"] else { return nil }
        self.session = session
        self.csrf = csrf
    }
}

extension TestClientProtocol {
    /// Posts the sign-in form with `token`.
    func signIn(_ token: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let form = "token=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token)
        return try await executeRequest(uri: "/login", method: .post, headers: headers, body: ByteBuffer(string: form))
    }
}

extension TestResponse {
    /// The body as text.
    var bodyText: String { String(buffer: body) }

    /// The `error.code` of a JSON error body.
    var apiErrorCode: String? {
        (try? JSONDecoder().decode(APIError.self, from: Data(body.readableBytesView)))?.error.code
    }
}
