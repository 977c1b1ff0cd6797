import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlipwayEngine
import SlipwayProxy
import SlipwayServer
import SlipwayStore
import Synchronization
import Testing
import Yams

/// A method and a path template (`/api/v1/apps/{app}`), as the router registers it and docs/api.yaml lists it.
struct RouteKey: Hashable, Comparable, CustomStringConvertible {
    var method: String
    var path: String

    var description: String { "\(method) \(path)" }

    static func < (lhs: RouteKey, rhs: RouteKey) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
}

/// Stands in for a router: records every route registered on it instead of serving it.
final class RouteRecorder: RouterMethods, @unchecked Sendable {
    typealias Context = APIRequestContext

    // Only touched while routes are added, on one task.
    private(set) var routes: [RouteKey] = []

    @discardableResult
    func on<Responder: HTTPResponder>(
        _ path: RouterPath,
        method: HTTPRequest.Method,
        responder: Responder
    ) -> Self where Responder.Context == Context {
        routes.append(RouteKey(method: method.rawValue, path: path.description))
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self { self }
}

/// docs/api.yaml and the routes the server registers agree.
@Suite struct APIDocumentTests {
    /// The routes the server registers on its root rather than under `/api/v1`: `ControllerAPI` (`/healthz`,
    /// `/metrics`), `LoginRoutes` and `DashboardRoutes`.
    static let rootRoutes: Set<RouteKey> = [
        RouteKey(method: "GET", path: "/healthz"),
        RouteKey(method: "GET", path: "/metrics"),
        RouteKey(method: "GET", path: "/login"),
        RouteKey(method: "POST", path: "/login"),
        RouteKey(method: "POST", path: "/logout"),
        RouteKey(method: "GET", path: "/"),
        RouteKey(method: "GET", path: "/dashboard.js"),
        RouteKey(method: "GET", path: "/dashboard.css"),
        RouteKey(method: "GET", path: "/reports/{app}/{rollout}"),
    ]

    /// Every route the controller's server registers, recorded from the same assembly the server runs.
    static func recordedRoutes() throws -> [RouteKey] {
        let recorder = RouteRecorder()
        ControllerRoutes.add(to: recorder, serving: try StandInController(), token: nil, sessions: SessionStore())
        return recorder.routes
    }

    /// Every (method, path) docs/api.yaml documents.
    static func documentedRoutes() throws -> [RouteKey] {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/api.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: Any])
        let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var routes: [RouteKey] = []
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any], "\(path)")
            for method in methods where operations[method] != nil {
                routes.append(RouteKey(method: method.uppercased(), path: path))
            }
        }
        return routes
    }

    @Test func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws {
        let served = try Self.recordedRoutes()
        #expect(Set(served).count == served.count, "a route is registered twice")
        let documented = Set(try Self.documentedRoutes())
        let undocumented = Set(served).subtracting(documented).sorted()
        let unserved = documented.subtracting(served).sorted()
        #expect(undocumented.isEmpty, "served but not in docs/api.yaml: \(undocumented)")
        #expect(unserved.isEmpty, "in docs/api.yaml but not served: \(unserved)")
        #expect(Set(served).isSuperset(of: Self.rootRoutes))
    }

    /// With a token configured, every documented route but the public ones answers 401 to a request with a wrong
    /// token (and the public ones do not). `/logout` is public for a browser without a session, but a wrong bearer
    /// token is refused there too.
    @Test func everyRouteButThePublicOnesNeedsTheToken() async throws {
        let router = Router(context: APIRequestContext.self)
        ControllerRoutes.add(
            to: router,
            serving: try StandInController(),
            token: APIToken("a-token"),
            sessions: SessionStore()
        )
        let publicRoutes: Set<RouteKey> = [
            RouteKey(method: "GET", path: "/healthz"), RouteKey(method: "GET", path: "/metrics"),
            RouteKey(method: "GET", path: "/login"), RouteKey(method: "POST", path: "/login"),
        ]
        let routes = try Self.documentedRoutes().sorted()
        try await Application(router: router).test(.router) { client in
            for route in routes {
                let uri = route.path.replacingOccurrences(of: "{app}", with: "shop")
                    .replacingOccurrences(of: "{rollout}", with: "1")
                let method = HTTPRequest.Method(route.method)!
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer wrong"]) {
                    if publicRoutes.contains(route) {
                        #expect($0.status != .unauthorized, "\(route)")
                    } else {
                        #expect($0.status == .unauthorized, "\(route)")
                    }
                }
            }
        }
    }

    /// Every served path asked with a method it does not answer gets 405 with `Allow` naming the ones it does
    /// (RFC 9110 §15.5.6); a path nobody serves stays 404.
    @Test func aWrongMethodIs405WithAllow() async throws {
        let router = Router(context: APIRequestContext.self)
        ControllerRoutes.add(to: router, serving: try StandInController(), token: nil, sessions: SessionStore())
        var paths: [String: Set<String>] = [:]
        for route in try Self.recordedRoutes() { paths[route.path, default: []].insert(route.method) }
        let served = paths
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]
        try await Application(router: router).test(.router) { client in
            for (path, allowed) in served.sorted(by: { $0.key < $1.key }) {
                let uri = path.replacingOccurrences(of: "{app}", with: "shop")
                    .replacingOccurrences(of: "{rollout}", with: "1")
                for method in methods where !allowed.contains(method.rawValue) {
                    try await client.execute(uri: uri, method: method) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        #expect(
                            response.headers[HTTPField.Name("Allow")!] == allowed.sorted().joined(separator: ", "),
                            "\(method) \(path)"
                        )
                        let error = try apiError(response)
                        #expect(error.error.code == "methodNotAllowed")
                    }
                }
            }
            try await client.execute(uri: "/api/v1/apps/shop/deploy", method: .get) { response in
                #expect(response.headers[HTTPField.Name("Allow")!] == "POST")
                let error = try apiError(response)
                #expect(error.error.message == "/api/v1/apps/shop/deploy answers POST, not GET")
            }
            try await client.execute(uri: "/api/v1/nothing", method: .delete) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// Every documented route but `ControllerAPI`'s own two reaches a handler of a router assembled from every
    /// route type (`DashboardRoutes` registers on a `Router`, which cannot be recorded).
    @Test func everyDocumentedRouteReachesAHandler() async throws {
        let matched = EndpointLog()
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: matched)
        let api = router.group("api/v1")
        let reading = try FixedReading()
        ReadRoutes(reading: reading, metrics: MetricsHistory(sample: { [] })).add(to: api)
        EventStreamRoutes(reading: reading, broadcaster: EventBroadcaster()).add(to: api)
        CommandRoutes(control: ScriptedRolloutControl()).add(to: api)
        ChaosRoutes(control: try StandInController()).add(to: api)
        LoginRoutes(token: nil, sessions: SessionStore()).add(to: router)
        DashboardRoutes(source: NoApps()).add(to: router)
        ReportRoutes(reading: reading).add(page: router.group(), json: api)
        let routes = try Self.documentedRoutes().filter { !["/healthz", "/metrics"].contains($0.path) }.sorted()
        try await Application(router: router).test(.router) { client in
            for route in routes {
                // An unknown app answers at once, even on the event stream.
                var uri = route.path.replacingOccurrences(of: "{app}", with: "nope")
                    .replacingOccurrences(of: "{rollout}", with: "1").replacingOccurrences(of: "{id}", with: "f1")
                if route.path == "/api/v1/stream" { uri += "?app=nope" }
                let method = HTTPRequest.Method(route.method)!
                try await client.execute(uri: uri, method: method) { _ in }
            }
        }
        #expect(matched.routes.sorted() == routes)
    }

    @Test func everyOperationDocumentsItsAnswersAndEveryAPIOperationItsErrors() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/api.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item where method != "parameters" {
                let operation = try #require(value as? [String: Any])
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
                #expect(responses.keys.contains { $0.hasPrefix("2") || $0.hasPrefix("3") }, "\(method) \(path)")
                if path.hasPrefix("/api/") {
                    #expect(responses["401"] != nil, "\(method) \(path) needs its 401")
                    #expect(responses["400"] != nil, "\(method) \(path) needs its 400")
                }
            }
        }
        let schemes = try #require((document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any])
        #expect(Set(schemes.keys) == ["bearerToken", "session", "csrfToken"])
    }
}

/// Notes the route template each request was matched to.
final class EndpointLog: RouterMiddleware, Sendable {
    typealias Context = APIRequestContext

    private let matched = Mutex<[RouteKey]>([])

    var routes: [RouteKey] { matched.withLock { $0 } }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        if let path = context.endpointPath {
            matched.withLock { $0.append(RouteKey(method: request.method.rawValue, path: path)) }
        }
        return response
    }
}

/// A controller made of the API tests' stand-ins: a real event log, scripted commands, no traffic.
struct StandInController: ControllerServing {
    let reading: FixedReading
    let control = ScriptedRolloutControl()
    let history = MetricsHistory(sample: { [] })
    let broadcaster = EventBroadcaster()
    let chaos: ChaosFaults

    init() throws {
        let reading = try FixedReading()
        self.reading = reading
        let log = reading.log
        chaos = try ChaosFaults(
            apps: reading.configuredApps().map(\.name),
            log: log,
            record: { event in try? log.append([event]).last },
            router: { nil }
        )
    }

    func configuredApps() -> [ConfiguredApp] { reading.configuredApps() }
    var log: EventLog { reading.log }
    func rollout(app: String) async throws(CommandRefusal) -> RolloutSummary? { try await reading.rollout(app: app) }
    func deploy(app: String, _ request: DeployRequest) async throws(CommandRefusal) -> RolloutSummary {
        try await control.deploy(app: app, request)
    }
    func command(app: String, _ command: UserCommand, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        try await control.command(app: app, command, by: user)
    }
    func restart(app: String, by user: String) async throws(CommandRefusal) -> RolloutSummary {
        try await control.restart(app: app, by: user)
    }
    func addFault(app: String, _ request: FaultRequest) async throws(CommandRefusal) -> ChaosFault {
        try await chaos.addFault(app: app, request)
    }
    func removeFault(app: String, id: String, by user: String) async throws(CommandRefusal) -> ChaosFault {
        try await chaos.removeFault(app: app, id: id, by: user)
    }
    func stopChaos(by user: String, reason: String?) async throws(CommandRefusal) -> ChaosStatus {
        try await chaos.stopChaos(by: user, reason: reason)
    }
    func releaseChaos(by user: String) async throws(CommandRefusal) -> ChaosStatus {
        try await chaos.releaseChaos(by: user)
    }
    func chaosStatus() async throws(CommandRefusal) -> ChaosStatus { await chaos.chaosStatus() }
    func recordExperiment(_ record: ExperimentRecord) async throws(CommandRefusal) -> ExperimentRecord { record }
    func traffic(app: String) async throws(CommandRefusal) -> TrafficTotals {
        throw CommandRefusal(.notFound, "no app named \"\(app)\"")
    }
    func killInstance(app: String, _ request: KillRequest) async throws(CommandRefusal) -> ChaosKill {
        try await ChaosKills(apps: [], record: { _ in nil }, status: { _ in nil }, signal: { _, _ in false })
            .kill(app: app, request)
    }
    func cutHost(_ host: String, _ request: CutRequest) async throws(CommandRefusal) -> ChaosHostCut {
        try await HostCuts(placement: [:], record: { _ in nil }, freeze: { _, _ in .success(0) }, cutOff: { _, _ in })
            .cut(host: host, request)
    }
    func dashboardApps() async -> [DashboardAppSummary] { [] }
    func samples() async -> [AppTrafficSample] { [] }
}

/// A dashboard with nothing to show.
struct NoApps: DashboardSource {
    func dashboardApps() async -> [DashboardAppSummary] { [] }
}
