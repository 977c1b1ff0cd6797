import Hummingbird
import Logging
import SlipwayConfig
import SlipwayProxy

/// What the controller's HTTP server serves: its apps, their events and rollouts, their traffic.
public protocol ControllerServing: ControllerReading, RolloutControl, ChaosControl, DashboardSource {
    /// Every app's recent traffic, one point a second.
    var history: MetricsHistory { get }
    /// New events as they are recorded.
    var broadcaster: EventBroadcaster { get }
    /// Every app's cumulative traffic now, for `/metrics`.
    func samples() async -> [AppTrafficSample]
}

/// Every route of the controller's HTTP server, in one place (the server and the API document test both use it).
public enum ControllerRoutes {
    /// Adds `/healthz`, `/metrics`, the sign-in pages, and behind authentication the `/api/v1` routes and the
    /// dashboard, to `router`.
    public static func add(
        to router: some RouterMethods<APIRequestContext>,
        serving controller: any ControllerServing,
        token: APIToken?,
        sessions: SessionStore
    ) {
        // The same assembly, recorded first: a served path asked with another method answers 405 with `Allow`.
        let collector = RouteCollector()
        register(on: collector, serving: controller, token: token, sessions: sessions)
        _ = router.add(middleware: MethodNotAllowedMiddleware(routes: collector.routes))
        register(on: router, serving: controller, token: token, sessions: sessions)
    }

    private static func register(
        on router: some RouterMethods<APIRequestContext>,
        serving controller: any ControllerServing,
        token: APIToken?,
        sessions: SessionStore
    ) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            let text = PrometheusText.render(await controller.samples())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
        LoginRoutes(token: token, sessions: sessions).add(to: router)
        let protected = router.group().add(middleware: AuthMiddleware(token: token, sessions: sessions))
        let api = protected.group("api/v1")
        ReadRoutes(reading: controller, metrics: controller.history).add(to: api)
        EventStreamRoutes(reading: controller, broadcaster: controller.broadcaster).add(to: api)
        CommandRoutes(control: controller).add(to: api)
        ChaosRoutes(control: controller).add(to: api)
        DashboardRoutes(source: controller).add(to: protected)
        ReportRoutes(reading: controller).add(page: protected, json: api)
    }
}

/// The controller's HTTP server: `/healthz` and `/metrics` (public), the sign-in pages, and behind
/// authentication the JSON API under `/api/v1` (reads, the event stream, the rollout commands) and the dashboard.
struct ControllerAPI: Sendable {
    let address: HostPort
    let controller: Controller
    let token: APIToken?
    let sessions: SessionStore
    let logger: Logger

    func run() async throws {
        let router = Router(context: APIRequestContext.self)
        ControllerRoutes.add(to: router, serving: controller, token: token, sessions: sessions)
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port),
                serverName: "slipway"
            ),
            logger: quiet
        )
        try await app.run()
    }
}
