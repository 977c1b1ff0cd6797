import Hummingbird

/// Decides who a request comes from: the bearer token, else the session cookie (with the CSRF header on
/// state changes). It answers nothing itself; `AuthMiddleware` and `LoginRoutes` turn its verdict into a
/// response.
struct RequestAuthenticator: Sendable {
    /// What a request's credentials are worth.
    enum Verdict: Sendable, Equatable {
        /// Let it through as this principal.
        case allowed(Principal)
        /// No usable credentials: no bearer token and no live session.
        case missing
        /// A bearer token that is not the API token.
        case wrongToken
        /// A live session, but a state change without the session's CSRF token.
        case csrfRejected
    }

    /// The methods that change state and so need the CSRF token when authenticated by a session.
    static let stateChangingMethods: Set<HTTPRequest.Method> = [.post, .put, .patch, .delete]

    /// The API token; nil when none is configured, and every request is let through as `.token`.
    let token: APIToken?
    /// The dashboard's sessions.
    let sessions: SessionStore

    func authenticate(_ request: Request) -> Verdict {
        guard let token else { return .allowed(.token) }
        if let presented = Self.bearerToken(request.headers[.authorization]) {
            return token.matches(presented) ? .allowed(.token) : .wrongToken
        }
        guard let id = request.cookies[SessionCookies.sessionName]?.value, let session = sessions.session(id: id) else {
            return .missing
        }
        if Self.stateChangingMethods.contains(request.method) {
            let sent = request.headers[SessionCookies.csrfHeader] ?? ""
            guard ConstantTime.equals(sent, session.csrfToken) else { return .csrfRejected }
        }
        guard sessions.touch(id: id) != nil else { return .missing }
        return .allowed(.session(id: id))
    }

    /// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive); nil for
    /// another scheme or no header.
    static func bearerToken(_ authorization: String?) -> Substring? {
        guard let authorization else { return nil }
        let scheme = authorization.prefix { $0 != " " }
        guard scheme.lowercased() == "bearer" else { return nil }
        let rest = authorization[scheme.endIndex...].drop { $0 == " " }
        return rest.isEmpty ? nil : rest
    }
}
