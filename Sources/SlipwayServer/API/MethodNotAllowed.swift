import Foundation
import HTTPTypes
import Hummingbird

/// Records the routes an assembly registers, instead of serving them: the methods each path answers, for
/// ``MethodNotAllowedMiddleware``.
final class RouteCollector: RouterMethods, @unchecked Sendable {
    typealias Context = APIRequestContext

    // Only touched while the routes are added, on one task, before the server starts.
    private(set) var routes: [(method: String, path: String)] = []

    @discardableResult
    func on<Responder: HTTPResponder>(
        _ path: RouterPath,
        method: HTTPRequest.Method,
        responder: Responder
    ) -> Self where Responder.Context == Context {
        routes.append((method.rawValue, path.description))
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self { self }
}

/// Answers 405 with `Allow` when a path is served but not with the request's method (RFC 9110 §15.5.6), where the
/// router alone would say 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    /// Each served path template, split in segments (`{app}` matches any one), with its methods.
    private let templates: [(segments: [Substring], methods: [String])]

    init(routes: [(method: String, path: String)]) {
        var methods: [String: Set<String>] = [:]
        for route in routes { methods[route.path, default: []].insert(route.method) }
        templates = methods.keys.sorted().map { path in
            (path.split(separator: "/"), methods[path, default: []].sorted())
        }
    }

    /// The methods `path` is served with; empty when it is not served at all.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        for template in templates where template.segments.count == segments.count {
            let matches = zip(template.segments, segments).allSatisfy { pattern, segment in
                (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
            }
            if matches { return template.methods }
        }
        return []
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            guard response.status == .notFound else { return response }
            return methodNotAllowed(request) ?? response
        } catch let error as HTTPError where error.status == .notFound {
            if let answer = methodNotAllowed(request) { return answer }
            throw error
        }
    }

    private func methodNotAllowed(_ request: Request) -> Response? {
        let allowed = methods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else { return nil }
        var response = APIError.response(
            .methodNotAllowed,
            code: "methodNotAllowed",
            message: "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method.rawValue)"
        )
        response.headers[HTTPField.Name("Allow")!] = allowed.joined(separator: ", ")
        return response
    }
}
