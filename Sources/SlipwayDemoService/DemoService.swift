import Foundation
import Hummingbird
import Logging
import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The demo HTTP service: a small app whose faults can be dialled in, for exercising zero-downtime releases.
///
/// Routes:
/// - `GET /` answers 200 with an ``IdentityResponse``. With ``DemoOptions/dependency`` it first calls the dependency:
///   a 5xx or an unreachable dependency answers 502; one slower than ``DemoOptions/dependencyTimeout`` is given up
///   on and the answer goes out without it.
/// - `GET /healthz` answers 200 `ok`, or 503 `unhealthy` while the health knobs say so. Health checks are not
///   counted and no other fault touches them.
/// - `GET /work?ms=N` waits N milliseconds (0...60000), then answers 200 with a ``WorkResponse``; a missing or
///   invalid `ms` answers 400 and is not counted.
/// - Anything else answers 404.
///
/// `GET /` and valid `GET /work` requests are counted, numbered from 1, and get the faults the ``FaultSchedule``
/// assigns to their number; each one writes an access line to standard output.
public struct DemoService: Sendable {
    /// The largest `ms` that `GET /work` accepts.
    public static let maximumWorkMilliseconds = 60_000
    /// How long the process lives on after answering the request it crashes after, so the answer reaches the client.
    public static let crashGrace: Duration = .milliseconds(50)
    /// Status the process exits with when it crashes on purpose.
    public static let crashStatus: Int32 = 3

    /// The options the service was built with.
    public let options: DemoOptions
    /// The faults injected, derived from ``options``.
    public let schedule: FaultSchedule
    /// How the service writes output and exits.
    public let hooks: DemoHooks
    private let counter = RequestCounter()
    /// Counted answers by status class, for `GET /metrics`.
    private let tally = ResponseTally()

    /// A service with the given options; applications made from it share one request count.
    public init(options: DemoOptions, hooks: DemoHooks = .process) {
        self.options = options
        self.schedule = FaultSchedule(options: options)
        self.hooks = hooks
    }

    /// How many requests this service has counted so far.
    public var requestCount: Int {
        counter.count
    }

    /// The line written to standard output once the service listens on `port`.
    public func listeningLine(port: Int) -> String {
        "slipway-demo-app \(options.app) \(options.version) instance \(options.instance) "
            + "listening on \(options.host):\(port)"
    }

    /// The Hummingbird application serving the demo routes on ``DemoOptions/host`` and ``DemoOptions/port``
    /// (port 0 when none is set). It does not apply ``DemoOptions/startupDelay``; ``run()`` does.
    public func makeApplication() -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        router.get("/") { request, _ in
            try await self.counted(request) { number in
                var dependency: String?
                if let url = self.options.dependency {
                    switch await DependencyCall(url: url, timeout: self.options.dependencyTimeout).perform() {
                    case .answered(let status) where status < 500:
                        dependency = "answered \(status)"
                    case .answered(let status):
                        return Self.text("the dependency answered \(status)", status: .badGateway)
                    case .fellBack:
                        dependency = "timed out: answered without it"
                    case .failed(let reason):
                        return Self.text("the dependency failed: \(reason)", status: .badGateway)
                    }
                }
                let body = IdentityResponse(
                    app: self.options.app,
                    version: self.options.version,
                    instance: self.options.instance,
                    pid: Int(getpid()),
                    request: number,
                    dependency: dependency
                )
                return try Self.json(body)
            }
        }
        router.get("/healthz") { _, _ in
            if self.schedule.healthFails(afterCounting: self.counter.count) {
                return Self.text("unhealthy", status: .serviceUnavailable)
            }
            return Self.text("ok", status: .ok)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: self.tally.exposition(
                            version: self.options.version,
                            instance: self.options.instance
                        )
                    )
                )
            )
        }
        router.get("/work") { request, _ in
            let milliseconds = try Self.workMilliseconds(request.uri.queryParameters["ms"].map(String.init))
            return try await self.counted(request) { _ in
                try await Task.sleep(for: .milliseconds(milliseconds))
                let body = WorkResponse(
                    version: self.options.version,
                    instance: self.options.instance,
                    workedMs: milliseconds
                )
                return try Self.json(body)
            }
        }
        let port = options.port ?? 0
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(options.host, port: port),
                serverName: "slipway-demo-app"
            ),
            onServerRunning: { channel in
                self.hooks.standardOutput(self.listeningLine(port: channel.localAddress?.port ?? port))
            },
            // Its own lines say what matters; the server's start-up chatter would crowd standard error.
            logger: Self.quietLogger
        )
    }

    private static let quietLogger: Logger = {
        var logger = Logger(label: "slipway-demo-app")
        logger.logLevel = .warning
        return logger
    }()

    /// Waits ``DemoOptions/startupDelay``, serves until SIGTERM or SIGINT, then shuts down gracefully and returns.
    ///
    /// A signal that arrives during the startup delay takes effect when the delay is over: the server then stops
    /// straight away.
    ///
    /// - Throws: ``DemoOptionError/missingPort`` when no port is set, or the server's error when it cannot listen.
    public func run() async throws {
        guard options.port != nil else { throw DemoOptionError.missingPort }
        var app = makeApplication()
        let delay = options.startupDelay
        if delay > .zero {
            app.beforeServerStarts {
                try await Task.sleep(for: delay)
            }
        }
        try await app.runService()
        hooks.standardOutput("slipway-demo-app instance \(options.instance) stopped")
    }

    /// Counts `request`, applies the faults scheduled for its number around `produce`, and logs the answer.
    private func counted(
        _ request: Request,
        produce: (Int) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let number = counter.next()
        let latency = schedule.extraLatency(request: number)
        if latency > .zero {
            try await Task.sleep(for: latency)
        }
        var response: Response
        if schedule.fails(request: number) {
            response = Self.text("injected failure (request \(number))", status: .internalServerError)
        } else {
            response = try await produce(number)
            if schedule.converts(request: number) {
                response.headers[.init(Self.outcomeHeader)!] = "converted"
            }
        }
        tally.record(status: Int(response.status.code), converted: response.headers[.init(Self.outcomeHeader)!] != nil)
        // Every counted answer, failures included, says which version gave it.
        response.headers[.init(Self.versionHeader)!] = options.version
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.milliseconds
        hooks.standardOutput("\(request.method) \(request.uri) \(response.status.code) \(milliseconds)ms")
        if schedule.crashes(afterRequest: number) {
            scheduleCrash(after: number)
        }
        return response
    }

    /// Exits the process shortly after the answer to request `number` has been handed to the server.
    private func scheduleCrash(after number: Int) {
        let hooks = self.hooks
        Task.detached {
            try? await Task.sleep(for: Self.crashGrace)
            hooks.standardError(
                "slipway-demo-app: crashing on purpose after request \(number) (--crash-after), "
                    + "exit status \(Self.crashStatus)"
            )
            hooks.terminate(Self.crashStatus)
        }
    }

    /// The `ms` of a `GET /work` request, or a 400 error saying what is wrong with it.
    private static func workMilliseconds(_ text: String?) throws -> Int {
        guard let text else {
            throw HTTPError(.badRequest, message: "missing query parameter ms: expected 0...\(maximumWorkMilliseconds)")
        }
        guard let value = Int(text), (0...maximumWorkMilliseconds).contains(value) else {
            throw HTTPError(
                .badRequest,
                message: "invalid ms '\(text)': expected a whole number of milliseconds, 0...\(maximumWorkMilliseconds)"
            )
        }
        return value
    }

    /// A 200 response with `body` as JSON, keys sorted so that every answer reads the same way.
    private static func json(_ body: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(body)))
        )
    }

    /// The header naming the version that answered.
    public static let versionHeader = "X-Demo-Version"
    /// The header by which an answer reports an outcome to the proxy, for A/B tests.
    public static let outcomeHeader = "X-Slipway-Outcome"

    private static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}
