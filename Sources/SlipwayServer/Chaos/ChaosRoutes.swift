import Hummingbird

/// The chaos endpoints of the controller's API: `GET /api/v1/chaos`, `POST /api/v1/chaos/stop`,
/// `POST /api/v1/chaos/release`, and an app's faults at `POST /api/v1/apps/{app}/faults` and
/// `DELETE /api/v1/apps/{app}/faults/{id}`, `POST /api/v1/apps/{app}/chaos/kill` and
/// `POST /api/v1/hosts/{host}/chaos/cut`. A refused or malformed request changes nothing.
public struct ChaosRoutes: Sendable {
    /// What carries the commands out.
    public let control: any ChaosControl

    /// Creates the routes for `control`.
    public init(control: any ChaosControl) {
        self.control = control
    }

    /// Adds the endpoints to `group`, which is mounted at `/api/v1`.
    public func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.get("chaos") { request, context in
            try await CommandRoutes.answer(request, accepting: []) { _ in (.ok, try await control.chaosStatus()) }
        }
        group.post("chaos/stop") { request, context in
            try await CommandRoutes.answer(request, accepting: ["by", "reason"]) { body in
                (.ok, try await control.stopChaos(by: try body.by, reason: try body.string("reason")))
            }
        }
        group.post("chaos/release") { request, context in
            try await CommandRoutes.answer(request, accepting: CommandBody.byOnly) { body in
                (.ok, try await control.releaseChaos(by: try body.by))
            }
        }
        group.post("chaos/experiments") { request, _ in
            try await CommandRoutes.answer(request, accepting: ExperimentRecord.fields) { body in
                (.created, try await control.recordExperiment(try ExperimentRecord(body)))
            }
        }
        group.get("apps/{app}/traffic") { request, context in
            try await CommandRoutes.answer(request, accepting: []) { _ in
                (.ok, try await control.traffic(app: try Self.parameter("app", of: context)))
            }
        }
        group.post("apps/{app}/faults") { request, context in
            try await CommandRoutes.answer(request, accepting: FaultRequest.fields) { body in
                let app = try Self.parameter("app", of: context)
                return (.created, try await control.addFault(app: app, try FaultRequest(body)))
            }
        }
        group.post("apps/{app}/chaos/kill") { request, context in
            try await CommandRoutes.answer(request, accepting: KillRequest.fields) { body in
                let app = try Self.parameter("app", of: context)
                return (.ok, try await control.killInstance(app: app, try KillRequest(body)))
            }
        }
        group.post("hosts/{host}/chaos/cut") { request, context in
            try await CommandRoutes.answer(request, accepting: CutRequest.fields) { body in
                let host = try Self.parameter("host", of: context)
                return (.ok, try await control.cutHost(host, try CutRequest(body)))
            }
        }
        group.delete("apps/{app}/faults/{id}") { request, context in
            try await CommandRoutes.answer(request, accepting: CommandBody.byOnly) { body in
                let app = try Self.parameter("app", of: context)
                let id = try Self.parameter("id", of: context)
                return (.ok, try await control.removeFault(app: app, id: id, by: try body.by))
            }
        }
    }

    private static func parameter(_ name: String, of context: some RequestContext) throws(CommandRefusal) -> String {
        guard let value = context.parameters.get(name) else {
            throw CommandRefusal(.badRequest, "the \(name) is missing")
        }
        return value
    }

}
