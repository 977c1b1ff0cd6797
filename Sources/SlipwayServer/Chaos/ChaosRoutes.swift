import Foundation
import Hummingbird
import NIOCore

/// The chaos endpoints of the controller's API: `GET /api/v1/chaos`, `POST /api/v1/chaos/stop`,
/// `POST /api/v1/chaos/release`, and an app's faults at `POST /api/v1/apps/{app}/faults` and
/// `DELETE /api/v1/apps/{app}/faults/{id}`, and `POST /api/v1/apps/{app}/chaos/kill`. A refused or malformed request changes nothing.
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
            try await answer(request, context, accepting: []) { _ in (.ok, try await control.chaosStatus()) }
        }
        group.post("chaos/stop") { request, context in
            try await answer(request, context, accepting: ["by", "reason"]) { body in
                (.ok, try await control.stopChaos(by: try body.by, reason: try body.string("reason")))
            }
        }
        group.post("chaos/release") { request, context in
            try await answer(request, context, accepting: CommandBody.byOnly) { body in
                (.ok, try await control.releaseChaos(by: try body.by))
            }
        }
        group.post("apps/{app}/faults") { request, context in
            try await answer(request, context, accepting: FaultRequest.fields) { body in
                let app = try Self.parameter("app", of: context)
                return (.created, try await control.addFault(app: app, try FaultRequest(body)))
            }
        }
        group.post("apps/{app}/chaos/kill") { request, context in
            try await answer(request, context, accepting: KillRequest.fields) { body in
                let app = try Self.parameter("app", of: context)
                return (.ok, try await control.killInstance(app: app, try KillRequest(body)))
            }
        }
        group.delete("apps/{app}/faults/{id}") { request, context in
            try await answer(request, context, accepting: CommandBody.byOnly) { body in
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

    /// Reads the body, runs `handle`, and encodes what it returns or the refusal it throws.
    private func answer(
        _ request: Request,
        _ context: some RequestContext,
        accepting fields: Set<String>,
        _ handle: (CommandBody) async throws -> (HTTPResponse.Status, any Encodable)
    ) async throws -> Response {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: CommandRoutes.maximumBodySize)
        } catch is NIOTooManyBytesError {
            return APIError.response(
                .contentTooLarge,
                code: "bodyTooLarge",
                message: "the request body is larger than \(CommandRoutes.maximumBodySize / 1024) KiB"
            )
        }
        do {
            let body = try CommandBody(json: Data(bytes.readableBytesView), accepting: fields)
            let (status, value) = try await handle(body)
            return try APIError.json(status, value)
        } catch let refusal as CommandRefusal {
            return APIError.response(refusal)
        }
    }
}
