import Foundation
import Hummingbird
import SlipwayCore
import SlipwayStore

/// Rollout reports at stable URLs: `GET /reports/{app}/{rollout}` (the HTML page) and
/// `GET /api/v1/apps/{app}/rollouts/{rollout}/report` (the same facts as JSON). Both sit behind authentication.
public struct ReportRoutes: Sendable {
    /// Where the reports are read from.
    public let reading: any ControllerReading

    /// Creates the routes over `reading`.
    public init(reading: any ControllerReading) {
        self.reading = reading
    }

    /// The page's path for rollout `rollout` of `app`.
    public static func pagePath(app: String, rollout: Int) -> String {
        "/reports/\(escaped(app))/\(rollout)"
    }

    /// The JSON's path for rollout `rollout` of `app`.
    public static func jsonPath(app: String, rollout: Int) -> String {
        "/api/v1/apps/\(escaped(app))/rollouts/\(rollout)/report"
    }

    /// Adds the page to `root` (mounted at `/`) and the JSON to `api` (mounted at `/api/v1`).
    public func add<Context: RequestContext>(page root: RouterGroup<Context>, json api: RouterGroup<Context>) {
        let reading = self.reading
        root.get("reports/{app}/{rollout}") { request, context -> Response in
            do {
                _ = try QueryParameters(request, accepting: [])
                let report = try Self.report(reading, context)
                let html = report.htmlPage()
                var headers = DashboardRoutes.securityHeaders
                headers[.contentSecurityPolicy] = RolloutReportPage.contentSecurityPolicy
                headers[.contentType] = "text/html; charset=utf-8"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
            } catch let refusal as CommandRefusal {
                return APIError.response(refusal)
            } catch let error as StoreError {
                return APIError.response(error)
            }
        }
        api.get("apps/{app}/rollouts/{rollout}/report") { request, context -> Response in
            do {
                _ = try QueryParameters(request, accepting: [])
                return try APIError.json(.ok, try Self.report(reading, context))
            } catch let refusal as CommandRefusal {
                return APIError.response(refusal)
            } catch let error as StoreError {
                return APIError.response(error)
            }
        }
    }

    /// The report the path names; 404 for an app or a rollout the log does not know.
    static func report(_ reading: any ControllerReading, _ context: some RequestContext) throws -> RolloutReport {
        guard let app = context.parameters.get("app") else {
            throw CommandRefusal(.badRequest, "the app name is missing")
        }
        guard let text = context.parameters.get("rollout"), let number = Int(text),
            (1...Int(Int32.max)).contains(number)
        else {
            throw CommandRefusal(
                .badRequest,
                "the rollout is a number from 1 to \(Int32.max) (see GET /api/v1/apps/\(app)/rollouts), not "
                    + "\"\(context.parameters.get("rollout") ?? "")\""
            )
        }
        return try report(reading, app: app, rollout: number)
    }

    /// The report of rollout `number` of `app`, which must be configured or known to the log.
    public static func report(
        _ reading: any ControllerReading,
        app: String,
        rollout number: Int
    ) throws -> RolloutReport {
        let configured = reading.configuredApps().contains { $0.name == app }
        guard try configured || reading.log.apps().contains(app) else {
            throw CommandRefusal(.notFound, "no app named \"\(app)\"")
        }
        return try RolloutReport.load(from: reading.log, app: app, rollout: number)
    }

    private static func escaped(_ app: String) -> String {
        app.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? app
    }
}
