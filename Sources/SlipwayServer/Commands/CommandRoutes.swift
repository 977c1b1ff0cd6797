import Foundation
import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// The rollout endpoints of the controller's API, under `/api/v1/apps/{app}/`: `deploy`, the user commands,
/// `restart` and `rollout`. Every request is answered with JSON; a refused or malformed one changes nothing.
public struct CommandRoutes: Sendable {
    /// The largest request body accepted; larger ones are answered 413.
    public static let maximumBodySize = 64 * 1024

    /// What carries the commands out.
    public let control: any RolloutControl

    /// Creates the routes for `control`.
    public init(control: any RolloutControl) {
        self.control = control
    }

    /// Adds the endpoints to `group`, which is mounted at `/api/v1`.
    public func add<Context: RequestContext>(to group: RouterGroup<Context>) {
        let apps = group.group("apps/{app}")
        apps.post("deploy") { request, context in
            try await answer(request, context, accepting: CommandBody.deployFields) { app, body in
                let summary = try await control.deploy(app: app, body.deployRequest())
                return (.accepted, summary)
            }
        }
        for (name, fields) in CommandBody.commandFields {
            apps.post(RouterPath(name)) { request, context in
                try await answer(request, context, accepting: fields) { app, body in
                    let command = try body.userCommand(named: name)
                    let summary = try await control.command(app: app, command, by: body.by)
                    return (.ok, CommandReply(message: summary.headline(after: command.name), rollout: summary))
                }
            }
        }
        apps.post("restart") { request, context in
            try await answer(request, context, accepting: CommandBody.byOnly) { app, body in
                let summary = try await control.restart(app: app, by: body.by)
                return (.ok, CommandReply(message: summary.headline(after: "restart"), rollout: summary))
            }
        }
        apps.get("rollout") { request, context in
            try await answer(request, context, accepting: []) { app, _ in
                guard let summary = try await control.rollout(app: app) else {
                    throw CommandRefusal(.notFound, "app \"\(app)\" has had no rollout")
                }
                return (.ok, summary)
            }
        }
    }

    /// Reads the app and the body, runs `handle`, and encodes what it returns or the error it throws.
    private func answer(
        _ request: Request,
        _ context: some RequestContext,
        accepting fields: Set<String>,
        _ handle: (String, CommandBody) async throws -> (HTTPResponse.Status, any Encodable)
    ) async throws -> Response {
        guard let app = context.parameters.get("app") else {
            return APIError.response(.badRequest, code: "badRequest", message: "the app name is missing")
        }
        return try await Self.answer(request, accepting: fields) { body in try await handle(app, body) }
    }

    /// Reads the body (413 past ``maximumBodySize``) as a ``CommandBody`` with `fields`, runs `handle`, and encodes
    /// what it returns or the refusal it throws.
    static func answer(
        _ request: Request,
        accepting fields: Set<String>,
        _ handle: (CommandBody) async throws -> (HTTPResponse.Status, any Encodable)
    ) async throws -> Response {
        let bytes: ByteBuffer
        do {
            bytes = try await request.body.collect(upTo: maximumBodySize)
        } catch is NIOTooManyBytesError {
            return APIError.response(
                .contentTooLarge,
                code: "bodyTooLarge",
                message: "the request body is larger than \(maximumBodySize / 1024) KiB"
            )
        }
        let status: HTTPResponse.Status
        let value: any Encodable
        do {
            let body = try CommandBody(json: Data(bytes.readableBytesView), accepting: fields)
            (status, value) = try await handle(body)
        } catch let refusal as CommandRefusal {
            return APIError.response(refusal)
        }
        return try APIError.json(status, value)
    }
}

/// The answer to a user command or `restart`: a line for people and the rollout after the command.
public struct CommandReply: Sendable, Equatable, Codable {
    /// What happened, in a few words.
    public var message: String?
    /// The rollout after the command.
    public var rollout: RolloutSummary

    /// Creates a reply.
    public init(message: String?, rollout: RolloutSummary) {
        self.message = message
        self.rollout = rollout
    }
}

/// The JSON error body every refusal is answered with: `{"error": {"code": "conflict", "message": "…"}}`.
public struct APIError: Sendable, Equatable, Codable {
    /// The code and the explanation.
    public struct Detail: Sendable, Equatable, Codable {
        /// `badRequest`, `notFound`, `conflict`, `deployWindow`, `bodyTooLarge` or `storeError`.
        public var code: String
        /// What was wrong and what would be accepted.
        public var message: String
        /// For `deployWindow`: the earliest time a deploy is allowed (ISO 8601), when there is one.
        public var nextAllowed: Date?
    }

    /// The error.
    public var error: Detail

    /// Creates an error body.
    public init(code: String, message: String, nextAllowed: Date? = nil) {
        self.error = Detail(code: code, message: message, nextAllowed: nextAllowed)
    }

    static func response(_ refusal: CommandRefusal) -> Response {
        let status: HTTPResponse.Status =
            switch refusal.code {
            case .badRequest: .badRequest
            case .notFound: .notFound
            case .conflict: .conflict
            case .deployWindow: .init(code: 423, reasonPhrase: "Locked")
            }
        let body = APIError(code: refusal.code.rawValue, message: refusal.message, nextAllowed: refusal.nextAllowed)
        return (try? json(status, body)) ?? Response(status: status)
    }

    static func response(_ error: StoreError) -> Response {
        // The log is the controller's own local file: its errors name no secret, and say what to look at.
        response(.internalServerError, code: "storeError", message: "the event log cannot be read: \(error)")
    }

    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        // Encoding two strings cannot fail.
        (try? json(status, APIError(code: code, message: message))) ?? Response(status: status)
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        var data = try APIJSON.encode(value)
        data.append(UInt8(ascii: "\n"))
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// A request body, checked strictly: a JSON object with only the accepted fields, each of its type.
struct CommandBody {
    /// The fields of `deploy`.
    static let deployFields: Set<String> = [
        "version", "variants", "strategy", "env", "supersede", "force", "by", "reason", "release",
    ]
    /// The fields of commands that take nothing but who asked.
    static let byOnly: Set<String> = ["by"]
    /// Each user command's endpoint and its fields.
    static let commandFields: [(String, Set<String>)] = [
        ("promote", ["full", "variant", "by"]), ("abort", byOnly), ("pause", byOnly), ("resume", byOnly),
        ("retry", byOnly), ("rollback", ["to", "by"]),
    ]
    /// Who asked when the body does not say.
    static let defaultUser = "api"

    private let fields: [String: JSONValue]
    /// Every field the body names, those set to null included.
    let names: Set<String>

    /// Reads `json` (empty means `{}`), refusing anything but an object with accepted fields.
    init(json: Data, accepting accepted: Set<String>) throws(CommandRefusal) {
        if json.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            fields = [:]
            names = []
            return
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw CommandRefusal(.badRequest, "the request body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw CommandRefusal(.badRequest, "the request body must be a JSON object, got \(Self.kind(of: value))")
        }
        if let unknown = object.keys.sorted().first(where: { !accepted.contains($0) }) {
            let known = accepted.isEmpty ? "no fields" : accepted.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw CommandRefusal(.badRequest, "unknown field \"\(unknown)\"; accepted: \(known)")
        }
        fields = object.filter { $0.value != .null }
        names = Set(object.keys)
    }

    /// Who asked.
    var by: String {
        get throws(CommandRefusal) { try string("by") ?? Self.defaultUser }
    }

    func deployRequest() throws(CommandRefusal) -> DeployRequest {
        guard let version = try string("version") else {
            throw CommandRefusal(.badRequest, "\"version\" is required")
        }
        let env = try fields["env"].map { value throws(CommandRefusal) in try Self.strings(value, at: "env") } ?? [:]
        var variants: [Release] = []
        if let value = fields["variants"] {
            guard case .array(let entries) = value else {
                throw CommandRefusal(
                    .badRequest,
                    "\"variants\": expected an array of variants, got \(Self.kind(of: value))"
                )
            }
            for (index, entry) in entries.enumerated() {
                variants.append(try Self.variant(entry, at: "variants[\(index)]"))
            }
        }
        var release = ReleaseMetadata()
        if let value = fields["release"] {
            guard case .object(let object) = value else {
                throw CommandRefusal(.badRequest, "\"release\": expected an object, got \(Self.kind(of: value))")
            }
            for (key, entry) in object.sorted(by: { $0.key < $1.key }) {
                guard ReleaseMetadata.keys.contains(key) else {
                    let known = ReleaseMetadata.keys.map { "\"\($0)\"" }.joined(separator: ", ")
                    throw CommandRefusal(.badRequest, "\"release.\(key)\": unknown field; accepted: \(known)")
                }
                switch entry {
                case .null: continue
                case .string(let text): release.set(key, to: text)
                default:
                    throw CommandRefusal(
                        .badRequest,
                        "\"release.\(key)\": expected a string, got \(Self.kind(of: entry))"
                    )
                }
            }
        }
        return DeployRequest(
            version: version,
            variants: variants,
            strategy: try string("strategy"),
            env: env,
            supersede: try bool("supersede") ?? false,
            force: try bool("force") ?? false,
            by: try by,
            reason: try string("reason"),
            release: release
        )
    }

    /// An object of strings (environment variables) at `path` of the body.
    private static func strings(_ value: JSONValue, at path: String) throws(CommandRefusal) -> [String: String] {
        guard case .object(let object) = value else {
            throw CommandRefusal(.badRequest, "\"\(path)\": expected an object of strings, got \(kind(of: value))")
        }
        var strings: [String: String] = [:]
        for (key, entry) in object {
            guard case .string(let text) = entry else {
                throw CommandRefusal(.badRequest, "\"\(path).\(key)\": expected a string, got \(kind(of: entry))")
            }
            strings[key] = text
        }
        return strings
    }

    /// One entry of a deploy's `variants`: a version, or `{"version": …, "env": {…}}`.
    private static func variant(_ entry: JSONValue, at path: String) throws(CommandRefusal) -> Release {
        switch entry {
        case .string(let version):
            return Release(version: version)
        case .object(let object):
            if let unknown = object.keys.sorted().first(where: { $0 != "version" && $0 != "env" }) {
                throw CommandRefusal(
                    .badRequest,
                    "\"\(path).\(unknown)\": unknown field; accepted: \"env\", \"version\""
                )
            }
            guard case .string(let version)? = object["version"] else {
                throw CommandRefusal(.badRequest, "\"\(path).version\" is required: a string")
            }
            // `null`, as for the deploy's own `env`, is no environment of its own.
            let env = try object["env"].flatMap { value throws(CommandRefusal) -> [String: String]? in
                value == .null ? nil : try strings(value, at: "\(path).env")
            }
            return Release(version: version, env: env ?? [:])
        default:
            throw CommandRefusal(
                .badRequest,
                "\"\(path)\": expected a version or {\"version\": …, \"env\": {…}}, got \(kind(of: entry))"
            )
        }
    }

    func userCommand(named name: String) throws(CommandRefusal) -> UserCommand {
        switch name {
        case "promote":
            let full = try bool("full") ?? false
            guard let variant = try string("variant") else { return .promote(full: full) }
            if full { throw CommandRefusal(.badRequest, "\"full\" and \"variant\" exclude each other") }
            return .choose(variant: variant)
        case "abort": return .abort
        case "pause": return .pause
        case "resume": return .resume
        case "retry": return .retry
        case "rollback": return .rollback(to: try string("to"))
        default: throw CommandRefusal(.notFound, "no command named \"\(name)\"")
        }
    }

    func string(_ name: String) throws(CommandRefusal) -> String? {
        guard let value = fields[name] else { return nil }
        guard case .string(let text) = value else {
            throw CommandRefusal(.badRequest, "\"\(name)\": expected a string, got \(Self.kind(of: value))")
        }
        return text
    }

    func bool(_ name: String) throws(CommandRefusal) -> Bool? {
        guard let value = fields[name] else { return nil }
        guard case .bool(let flag) = value else {
            throw CommandRefusal(.badRequest, "\"\(name)\": expected true or false, got \(Self.kind(of: value))")
        }
        return flag
    }

    /// The field `name` as a whole number in `range`.
    func int(_ name: String, in range: ClosedRange<Int>) throws(CommandRefusal) -> Int? {
        guard let value = fields[name] else { return nil }
        guard case .int(let number) = value else {
            throw CommandRefusal(.badRequest, "\"\(name)\": expected a whole number, got \(Self.kind(of: value))")
        }
        guard range.contains(number) else {
            throw CommandRefusal(
                .badRequest,
                "\"\(name)\": \(number) is out of range (expected \(range.lowerBound)...\(range.upperBound))"
            )
        }
        return number
    }

    /// The field `name` as a number in `range`.
    func number(_ name: String, in range: ClosedRange<Double>) throws(CommandRefusal) -> Double? {
        guard let value = fields[name] else { return nil }
        guard let number = value.numberValue else {
            throw CommandRefusal(.badRequest, "\"\(name)\": expected a number, got \(Self.kind(of: value))")
        }
        guard range.contains(number) else {
            throw CommandRefusal(
                .badRequest,
                "\"\(name)\": \(number) is out of range (expected \(range.lowerBound)...\(range.upperBound))"
            )
        }
        return number
    }

    /// The field `name` as it was sent; nil when absent or null.
    func value(_ name: String) -> JSONValue? {
        fields[name]
    }

    /// The field `name` as an object whose values are all strings.
    func stringObject(_ name: String) throws(CommandRefusal) -> [String: String]? {
        guard let value = fields[name] else { return nil }
        return try Self.strings(value, at: name)
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .string: return "a string"
        case .int, .double: return "a number"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .object: return "an object"
        case .null: return "null"
        }
    }
}
