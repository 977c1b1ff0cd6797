import Foundation
import Hummingbird
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// The JSON read endpoints of the controller's API: apps, rollouts, releases, events and per-app metrics.
///
/// Every answer is JSON; an unknown app is answered 404, a malformed query 400 naming the parameter.
public struct ReadRoutes: Sendable {
    /// The most seconds of metrics one request may ask for, and the default.
    public static let maximumMetricsSeconds = 600
    public static let defaultMetricsSeconds = 300

    /// What the views are read from.
    public let reading: any ControllerReading
    /// Per-second traffic of every app.
    public let metrics: MetricsHistory

    /// Creates the routes over `reading` and `metrics`.
    public init(reading: any ControllerReading, metrics: MetricsHistory) {
        self.reading = reading
        self.metrics = metrics
    }

    /// Adds the endpoints to `group`, which is mounted at `/api/v1`.
    public func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("apps") { request, _ in
            try await answer {
                _ = try QueryParameters(request, accepting: [])
                var views: [AppView] = []
                for app in reading.configuredApps() { views.append(try await view(of: app)) }
                return views
            }
        }
        group.get("apps/{app}") { request, context in
            try await answer {
                _ = try QueryParameters(request, accepting: [])
                return try await view(of: try configuredApp(context))
            }
        }
        group.get("apps/{app}/rollouts") { request, context in
            try await answer {
                _ = try QueryParameters(request, accepting: [])
                let app = try knownApp(context)
                return Array(RolloutRecord.fold(try events(of: app)).reversed())
            }
        }
        group.get("apps/{app}/experiment") { request, context in
            try await answer {
                let query = try QueryParameters(request, accepting: ["rollout"])
                let number = try query.integer("rollout", in: 1...Int64(Int32.max)).map(Int.init)
                let app = try knownApp(context)
                return try await experiment(of: app, rollout: number)
            }
        }
        group.get("apps/{app}/releases") { request, context in
            try await answer {
                _ = try QueryParameters(request, accepting: [])
                let app = try knownApp(context)
                return ReleaseView.fold(
                    app: app,
                    events: try events(of: app),
                    stable: try reading.status(app: app).version
                )
            }
        }
        group.get("apps/{app}/metrics") { request, context in
            try await answer {
                let query = try QueryParameters(request, accepting: ["seconds"])
                let seconds = try query.integer("seconds", in: 1...Int64(Self.maximumMetricsSeconds))
                let app = try configuredApp(context)
                return await metrics.series(app: app.name, seconds: Int(seconds ?? Int64(Self.defaultMetricsSeconds)))
            }
        }
        group.get("apps/{app}/windows") { request, context in
            try await answer {
                _ = try QueryParameters(request, accepting: [])
                return try reading.windows(app: try configuredApp(context).name)
            }
        }
        group.get("events") { request, _ in
            try await answer {
                let query = try QueryParameters(request, accepting: ["app", "before", "after", "limit"])
                let app = try query.string("app")
                if let app { _ = try known(app) }
                let before = try query.integer("before", in: 1...Int64.max)
                let after = try query.integer("after", in: 0...Int64.max)
                let limit = try query.integer("limit", in: 1...Int64(EventPage.maximumLimit))
                // Both: the events between them, oldest first.
                let direction: EventPage.Direction =
                    after.map { .forward(after: $0, before: before) } ?? .backward(before: before)
                let size = Int(limit ?? Int64(EventPage.defaultLimit))
                return try EventPage.read(reading.log, app: app, direction, limit: size)
            }
        }
    }

    /// Runs `handle` and encodes what it returns, or the refusal it throws.
    private func answer(_ handle: () async throws -> some Encodable) async throws -> Response {
        do {
            return try APIError.json(.ok, try await handle())
        } catch let refusal as CommandRefusal {
            return APIError.response(refusal)
        } catch let error as StoreError {
            return APIError.response(error)
        }
    }

    private func view(of app: ConfiguredApp) async throws -> AppView {
        AppView(app: app, status: try reading.status(app: app.name), rollout: try await reading.rollout(app: app.name))
    }

    /// The experiment of rollout `number` (nil: the newest that has one): the live report while this controller runs
    /// it, else the last one its events recorded.
    private func experiment(of app: String, rollout number: Int?) async throws -> ExperimentReport {
        if let live = try await reading.experiment(app: app), number == nil || live.rollout == number {
            return live
        }
        let records = RolloutRecord.fold(try events(of: app)).reversed()
        let recorded = records.first { record in
            record.experiment != nil && (number == nil || record.number == number)
        }
        guard let json = recorded?.experiment, let report = ExperimentReport(json: json) else {
            let which = number.map { "rollout #\($0) of \"\(app)\" ran" } ?? "\"\(app)\" has run"
            throw CommandRefusal(
                .notFound,
                "no experiment: \(which) none (an experiment is a deploy with strategy abTest)"
            )
        }
        return report
    }

    private func events(of app: String) throws(StoreError) -> [RecordedEvent] {
        try reading.log.events(app: app, limit: .max)
    }

    /// The configured app the path names.
    private func configuredApp(_ context: some RequestContext) throws(CommandRefusal) -> ConfiguredApp {
        let name = try appParameter(context)
        guard let app = reading.configuredApps().first(where: { $0.name == name }) else {
            throw CommandRefusal(.notFound, "no app named \"\(name)\"")
        }
        return app
    }

    /// The app the path names: configured, or one the log has events of.
    private func knownApp(_ context: some RequestContext) throws -> String {
        try known(try appParameter(context))
    }

    private func known(_ name: String) throws -> String {
        if reading.configuredApps().contains(where: { $0.name == name }) { return name }
        guard try reading.log.apps().contains(name) else { throw CommandRefusal(.notFound, "no app named \"\(name)\"") }
        return name
    }

    private func appParameter(_ context: some RequestContext) throws(CommandRefusal) -> String {
        guard let name = context.parameters.get("app") else {
            throw CommandRefusal(.badRequest, "the app name is missing")
        }
        return name
    }
}
