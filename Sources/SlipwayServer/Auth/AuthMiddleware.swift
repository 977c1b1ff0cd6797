import Foundation
import Hummingbird
import Logging

/// Lets through only requests that carry the API token (`Authorization: Bearer …`) or a live dashboard
/// session, and sets `context.principal` to which.
///
/// A session's POST, PUT, PATCH and DELETE must also send the session's CSRF token in `X-CSRF-Token`, else
/// 403 `csrf`. Anything else is 401 `unauthorized` with `WWW-Authenticate: Bearer realm="slipway"`, except a
/// browser asking for a page (a GET that accepts `text/html`, outside `/api/`), which is sent to `/login`.
/// With no token configured, every request passes as `.token`.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    /// The `WWW-Authenticate` value of every 401.
    static let challenge = "Bearer realm=\"slipway\""

    private let authenticator: RequestAuthenticator

    /// Creates the middleware.
    /// - Parameters:
    ///   - token: the API token, nil when the config sets none (everything is then open).
    ///   - sessions: the dashboard's sessions, shared with `LoginRoutes`.
    public init(token: APIToken?, sessions: SessionStore) {
        self.authenticator = RequestAuthenticator(token: token, sessions: sessions)
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        switch authenticator.authenticate(request) {
        case .allowed(let principal):
            var context = context
            context.principal = principal
            return try await next(request, context)
        case .missing:
            if Self.isPageRequest(request) { return .redirect(to: Self.loginPath(returningTo: request), type: .normal) }
            return Self.unauthorized(
                "this needs the API token (Authorization: Bearer <token>) or a dashboard session; sign in at /login"
            )
        case .wrongToken:
            context.logger.info("refused a request with a wrong API token", metadata: Self.metadata(request))
            return Self.unauthorized("the API token is not right")
        case .csrfRejected:
            context.logger.info("refused a state change without the CSRF token", metadata: Self.metadata(request))
            return Self.csrfRejected()
        }
    }

    /// Whether `request` is a browser asking for a page, which is better sent to the sign-in page than
    /// answered with JSON.
    static func isPageRequest(_ request: Request) -> Bool {
        let path = request.uri.path
        let accept = request.headers[values: .accept].joined(separator: ",").lowercased()
        return (request.method == .get || request.method == .head) && accept.contains("text/html")
            && path != "/api" && !path.hasPrefix("/api/")
    }

    /// `/login`, with `?next=` the page asked for when it is not the dashboard itself.
    static func loginPath(returningTo request: Request) -> String {
        let path = request.uri.path
        guard path != "/", !path.isEmpty else { return "/login" }
        let target = request.uri.query.map { "\(path)?\($0)" } ?? path
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/")
    }

    /// 401 with `message`, as JSON.
    static func unauthorized(_ message: String) -> Response {
        var response = APIError.response(.unauthorized, code: "unauthorized", message: message)
        response.headers[.wwwAuthenticate] = challenge
        return response
    }

    /// 403 `csrf`, as JSON.
    static func csrfRejected() -> Response {
        APIError.response(
            .forbidden,
            code: "csrf",
            message: "a signed-in state change needs the X-CSRF-Token header set to the slipway_csrf cookie"
        )
    }

    private static func metadata(_ request: Request) -> Logger.Metadata {
        ["method": "\(request.method.rawValue)", "path": "\(request.uri.path)"]
    }
}
