import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SlipwayServer

/// Why a request to the controller did not succeed: the line to print and the exit code.
struct ControllerFailure: Error, Equatable {
    /// The exit code (`ExitStatus`).
    var status: Int32
    /// What went wrong, without the `error: ` prefix.
    var message: String
}

/// Talks JSON to a controller's `/api/v1` and maps every failure to a message and an exit code.
struct ControllerClient {
    /// How long a connection attempt may take.
    static let connectTimeout = TimeAmount.seconds(5)
    /// How long a request may take, answer included.
    static let requestTimeout = TimeAmount.seconds(60)
    /// The largest answer read.
    static let maximumAnswerSize = 4 * 1024 * 1024

    let endpoint: ControllerEndpoint
    private let client: HTTPClient

    /// Runs `body` with a client for `endpoint`, shutting the client down afterwards.
    static func with<Result>(
        _ endpoint: ControllerEndpoint,
        _ body: (ControllerClient) async throws -> Result
    ) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: connectTimeout, read: requestTimeout)
        // A refused connection is an answer: fail at once instead of retrying until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(try await body(ControllerClient(endpoint: endpoint, client: client)))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()
        return try result.get()
    }

    /// `POST /api/v1/apps/APP/ACTION` with `body`, decoding a 2xx answer as `Answer`.
    func post<Answer: Decodable>(
        app: String,
        _ action: String,
        body: some Encodable,
        as answer: Answer.Type
    ) async throws(ControllerFailure) -> Answer {
        try await send(.POST, Self.path(app: app, action), body: body, as: answer)
    }

    /// `METHOD path` (under the controller's base) with `body` as JSON, decoding a 2xx answer as `Answer`.
    func send<Answer: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        body: some Encodable,
        as answer: Answer.Type
    ) async throws(ControllerFailure) -> Answer {
        let data: Data
        do {
            data = try JSONEncoder().encode(body)
        } catch {
            throw ControllerFailure(status: ExitStatus.badInput, message: "cannot encode the request: \(error)")
        }
        return try await send(method, path: path, body: data, as: answer)
    }

    /// `GET /api/v1/apps/APP/rollout`.
    func rollout(app: String) async throws(ControllerFailure) -> RolloutSummary {
        try await send(.GET, path: Self.path(app: app, "rollout"), body: nil, as: RolloutSummary.self)
    }

    static func path(app: String, _ action: String) -> String {
        let segment = app.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? app
        return "/api/v1/apps/\(segment)/\(action)"
    }

    /// `GET path` (under the controller's base), decoding a 2xx answer as `Answer`.
    func get<Answer: Decodable>(_ path: String, as answer: Answer.Type) async throws(ControllerFailure) -> Answer {
        try await send(.GET, path: path, body: nil, as: answer)
    }

    /// Follows `GET path` as a server-sent-event stream, calling `onEvent` with each event's id, and returns when
    /// the stream ends. Fails like any request when the controller cannot be reached or refuses.
    func follow(_ path: String, lastEventID: String?, onEvent: (String?) async -> Void) async throws(ControllerFailure)
    {
        var request = HTTPClientRequest(url: endpoint.base + path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "User-Agent", value: "slipway")
        if let token = endpoint.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .hours(24))
        } catch {
            throw ControllerFailure(
                status: ExitStatus.unreachable,
                message: "cannot reach the controller at \(endpoint.address): \(Self.reason(error))"
            )
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let bytes = (try? await response.body.collect(upTo: Self.maximumAnswerSize)) ?? ByteBuffer()
            throw failure(
                status: Int(response.status.code),
                data: Data(bytes.readableBytesView),
                request: "GET \(path)"
            )
        }
        var parser = EventStreamParser()
        do {
            for try await chunk in response.body {
                for event in parser.feed(String(buffer: chunk)) { await onEvent(event.id) }
            }
        } catch {
            // The stream broke off; the caller reconnects.
        }
    }

    private func send<Answer: Decodable>(
        _ method: HTTPMethod,
        path: String,
        body: Data?,
        as answer: Answer.Type
    ) async throws(ControllerFailure) -> Answer {
        var request = HTTPClientRequest(url: endpoint.base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "slipway")
        if let token = endpoint.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: Self.requestTimeout)
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: Self.maximumAnswerSize)
        } catch {
            throw ControllerFailure(
                status: ExitStatus.unreachable,
                message: "cannot reach the controller at \(endpoint.address): \(Self.reason(error))"
            )
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(status) else {
            throw failure(status: status, data: data, request: "\(method.rawValue) \(path)")
        }
        do {
            return try APIJSON.decode(answer, from: data)
        } catch {
            throw ControllerFailure(
                status: ExitStatus.unreachable,
                message: "the controller at \(endpoint.address) answered \(status) with an unreadable body: "
                    + Self.excerpt(data)
            )
        }
    }

    /// The failure a non-2xx answer stands for.
    private func failure(status: Int, data: Data, request: String) -> ControllerFailure {
        let refusal = try? APIJSON.decode(APIError.self, from: data)
        switch (status, refusal) {
        case (401, _), (403, _):
            let hint = endpoint.token == nil ? "; set SLIPWAY_TOKEN or the config's controller.token" : ""
            return ControllerFailure(
                status: ExitStatus.unreachable,
                message: "the controller at \(endpoint.address) refused the credentials (\(status))\(hint)"
            )
        case (409, let refusal?):
            return ControllerFailure(status: ExitStatus.rolloutFailed, message: refusal.error.message)
        case (423, let refusal?):
            return ControllerFailure(status: ExitStatus.refusedByWindow, message: refusal.error.message)
        case (400, let refusal?), (404, let refusal?), (413, let refusal?):
            return ControllerFailure(status: ExitStatus.badInput, message: refusal.error.message)
        case (404, nil):
            return ControllerFailure(
                status: ExitStatus.unreachable,
                message: "the controller at \(endpoint.address) does not know \(request)"
            )
        default:
            let detail = refusal?.error.message ?? Self.excerpt(data)
            return ControllerFailure(
                status: ExitStatus.unreachable,
                message: "the controller at \(endpoint.address) answered \(status)"
                    + (detail.isEmpty ? "" : ": \(detail)")
            )
        }
    }

    /// A few words on why a request got no answer: `connection refused`, `timed out after 5s`.
    static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out after \(connectTimeout.nanoseconds / 1_000_000_000)s"
            case .deadlineExceeded, .readTimeout:
                return "no answer within \(requestTimeout.nanoseconds / 1_000_000_000)s"
            case .remoteConnectionClosed: return "the connection was closed before an answer"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return reason(failure.error) }
            if let lookup = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(lookup)" }
            return "cannot connect to \(error.host):\(error.port)"
        }
        if let error = error as? IOError { return systemMessage(error.errnoCode) }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connection timed out" }
        return "\(error)"
    }

    /// `connection refused` for ECONNREFUSED.
    private static func systemMessage(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    private static func excerpt(_ data: Data) -> String {
        let text = String(decoding: data.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
