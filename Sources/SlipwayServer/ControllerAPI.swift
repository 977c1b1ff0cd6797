import Hummingbird
import Logging
import SlipwayConfig
import SlipwayProxy

/// The controller's HTTP endpoint: `/healthz` for the controller itself and `/metrics`, the proxy's traffic
/// counters in Prometheus text format.
struct ControllerAPI: Sendable {
    let address: HostPort
    let metrics: Controller
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
