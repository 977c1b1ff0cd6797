import Foundation
import Hummingbird
import Logging
import NIOCore

/// The dashboard's sign-in: `GET /login` (the page), `POST /login` (the form: a right token starts a session
/// and sets its two cookies) and `POST /logout`. They are public routes: add them before `AuthMiddleware`.
/// With no token configured there is nothing to sign in to, and `/login` sends the browser to `/`.
public struct LoginRoutes: Sendable {
    /// The largest sign-in form accepted.
    public static let maximumFormSize = 4 * 1024

    private let token: APIToken?
    private let sessions: SessionStore
    private let throttle: LoginThrottle
    private let authenticator: RequestAuthenticator

    /// Creates the routes.
    /// - Parameters:
    ///   - token: the API token, nil when the config sets none.
    ///   - sessions: where sessions are kept, shared with `AuthMiddleware`.
    ///   - throttle: what slows down guessing.
    public init(token: APIToken?, sessions: SessionStore, throttle: LoginThrottle = LoginThrottle()) {
        self.token = token
        self.sessions = sessions
        self.throttle = throttle
        self.authenticator = RequestAuthenticator(token: token, sessions: sessions)
    }

    /// Adds `GET /login`, `POST /login` and `POST /logout` to `router` (a `Router`, or a group at its root).
    public func add(to router: some RouterMethods) {
        router.get("login") { request, _ in
            let next = Self.destination(request.uri.queryParameters["next"].map(String.init))
            guard token != nil else { return Response.redirect(to: next, type: .normal) }
            if case .allowed(.session) = authenticator.authenticate(request) {
                return Response.redirect(to: next, type: .normal)
            }
            return Self.page(.ok, next: next)
        }
        router.post("login") { request, context in
            try await signIn(request, context)
        }
        router.post("logout") { request, _ in
            signOut(request)
        }
    }

    private func signIn(_ request: Request, _ context: some RequestContext) async throws -> Response {
        guard let token else { return .redirect(to: "/", type: .normal) }
        let client = Self.client(of: context)
        if case .wait(let wait) = throttle.admit(client) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            var response = Self.page(
                .tooManyRequests,
                message: "Too many wrong tokens. Try again in \(seconds) second\(seconds == 1 ? "" : "s")."
            )
            response.headers[.retryAfter] = String(seconds)
            return response
        }
        let form = try await Self.form(request)
        let next = Self.destination(form?.next)
        guard let presented = form?.token, !presented.isEmpty else {
            return Self.page(.badRequest, message: "Enter the API token.", next: next)
        }
        guard token.matches(presented) else {
            context.logger.info("refused a sign-in with a wrong API token")
            var response = Self.page(.unauthorized, message: "That token is not right.", next: next)
            response.headers[.wwwAuthenticate] = AuthMiddleware.challenge
            return response
        }
        throttle.recordSuccess(for: client)
        let session = sessions.create()
        var response = Response.redirect(to: next, type: .normal)
        response.headers[.cacheControl] = "no-store"
        SessionCookies.add(SessionCookies.setting(session), to: &response)
        return response
    }

    private func signOut(_ request: Request) -> Response {
        switch authenticator.authenticate(request) {
        case .csrfRejected:
            return AuthMiddleware.csrfRejected()
        case .wrongToken:
            return AuthMiddleware.unauthorized("the API token is not right")
        case .allowed(.session(let id)):
            sessions.delete(id: id)
        case .allowed(.token), .missing:
            // Nothing to end: the cookies, if any, are stale.
            break
        }
        var response = Response.redirect(to: "/login", type: .normal)
        response.headers[.cacheControl] = "no-store"
        SessionCookies.add(SessionCookies.clearing, to: &response)
        return response
    }

    /// The fields of an `application/x-www-form-urlencoded` body; nil when the body is not such a form.
    private static func form(_ request: Request) async throws -> LoginForm? {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumFormSize)
        } catch is NIOTooManyBytesError {
            return nil
        }
        return LoginForm(String(buffer: body))
    }

    /// Where to go after signing in: `next` when it is a path of this server (`/reports/shop/3`), else `/`. Anything
    /// that could leave the server (`//host`, `/\host`, a scheme) or carries control characters goes to `/`.
    static func destination(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), next.utf8.count <= 2_048,
            !next.hasPrefix("//"), !next.hasPrefix("/\\"),
            !next.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" })
        else { return "/" }
        return next
    }

    /// Who is signing in, for the throttle: the peer's address when the context knows it.
    private static func client(of context: some RequestContext) -> String {
        (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "*"
    }

    private static func page(_ status: HTTPResponse.Status, message: String? = nil, next: String = "/") -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "no-store",
                .contentSecurityPolicy: LoginPage.contentSecurityPolicy,
                HTTPFields.Element.Name("X-Frame-Options")!: "DENY",
                HTTPFields.Element.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: LoginPage.html(message: message, next: next)))
        )
    }
}

/// The sign-in form.
struct LoginForm {
    var token: String?
    /// Where the browser was going when it was sent here.
    var next: String?

    /// The first `token` and `next` of an `application/x-www-form-urlencoded` body; other fields, repeated ones
    /// included, are ignored, as a browser's form may carry them.
    init(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) -> String? {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decoded(parts[0]) else { continue }
            let value = parts.count > 1 ? decoded(parts[1]) : ""
            switch name {
            case "token" where token == nil: token = value
            case "next" where next == nil: next = value
            default: continue
            }
        }
    }
}
