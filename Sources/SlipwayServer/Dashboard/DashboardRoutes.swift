import Hummingbird

/// The web dashboard: `GET /` (the page, listing every app as it is now), `GET /dashboard.js` and
/// `GET /dashboard.css`. The script reads the JSON API and its event stream with the session cookie; the routes
/// themselves rely on the authentication middleware in front of them, like every route but `/login`.
public struct DashboardRoutes: Sendable {
    /// Where the page's app list comes from.
    public let source: any DashboardSource

    /// Creates the routes for `source`.
    public init(source: any DashboardSource) {
        self.source = source
    }

    /// Adds the routes to `router`.
    public func add(to router: some RouterMethods) {
        let source = self.source
        router.get("/") { _, _ -> Response in
            let html = DashboardPage.render(apps: await source.dashboardApps())
            return Self.response(html, type: "text/html; charset=utf-8")
        }
        router.get("/dashboard.js") { _, _ -> Response in
            Self.response(DashboardScript.text, type: "text/javascript; charset=utf-8")
        }
        router.get("/dashboard.css") { _, _ -> Response in
            Self.response(DashboardStyle.text, type: "text/css; charset=utf-8")
        }
    }

    /// The policy every dashboard response carries: nothing but this origin's own script, style and requests,
    /// never framed (clickjacking the action buttons), never cached (the page shows live state).
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        HTTPFields.Element.Name("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]

    private static func response(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
