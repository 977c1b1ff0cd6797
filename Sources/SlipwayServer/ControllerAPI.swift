import Hummingbird
import Logging
import SlipwayConfig
import SlipwayProxy

/// The controller's HTTP endpoint: `/healthz` for the controller itself, `/metrics`, the proxy's traffic
/// counters in Prometheus text format, and the rollout commands under `/api/v1/apps/{app}/` (`CommandRoutes`).
struct ControllerAPI: Sendable {
    let address: HostPort
    let metrics: Controller
    let control: any RolloutControl
    let logger: Logger

    func run() async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            let text = PrometheusText.render(await metrics.samples())
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
        CommandRoutes(control: control).add(to: router)
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
