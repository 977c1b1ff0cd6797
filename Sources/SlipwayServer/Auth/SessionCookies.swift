import Hummingbird

/// The dashboard's two cookies and the header that echoes one of them.
///
/// `slipway_session` carries the session id and is `HttpOnly`; `slipway_csrf` carries the session's CSRF token
/// and is readable by the dashboard's script, which sends it back in `X-CSRF-Token` on every state change
/// (double submit). Both are `SameSite=Strict`, so another site can neither send them nor read them.
enum SessionCookies {
    /// The session id cookie.
    static let sessionName = "slipway_session"
    /// The CSRF token cookie.
    static let csrfName = "slipway_csrf"
    /// The header a state-changing request repeats the CSRF token in.
    static let csrfHeader = HTTPFields.Element.Name("X-CSRF-Token")!

    /// The `Set-Cookie` values that sign a browser in to `session`.
    static func setting(_ session: SessionStore.Session) -> [String] {
        [
            "\(sessionName)=\(session.id); HttpOnly; SameSite=Strict; Path=/",
            "\(csrfName)=\(session.csrfToken); SameSite=Strict; Path=/",
        ]
    }

    /// The `Set-Cookie` values that make a browser forget both cookies.
    static let clearing = [
        "\(sessionName)=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/",
        "\(csrfName)=; Max-Age=0; SameSite=Strict; Path=/",
    ]

    /// Adds `values` as `Set-Cookie` headers of `response`.
    static func add(_ values: [String], to response: inout Response) {
        response.headers[values: .setCookie].append(contentsOf: values)
    }
}
