import Foundation
import SlipwayCore
import SlipwayProxy

/// What `POST /api/v1/apps/{app}/faults` asks for: a fault without its id and expiry time, which the controller
/// gives it.
public struct FaultRequest: Sendable, Equatable {
    /// The fields the endpoint accepts.
    static let fields: Set<String> = [
        "kind", "status", "delayMs", "jitterMs", "bytesPerSecond", "percent", "path", "method", "header", "version",
        "durationMs", "maxRequests", "by", "reason",
    ]
    /// How long a fault applies when the request does not say.
    public static let defaultDuration = Duration.seconds(300)
    /// The longest a fault may apply.
    public static let maximumDuration = Duration.seconds(86_400)

    /// The fault, its id and expiry to be set.
    public var fault: FaultSpec
    /// How long it applies from when it is added.
    public var duration: Duration
    /// Who asks.
    public var by: String
    /// Why.
    public var reason: String?
    /// What owns the fault when not a person (a rollout's chaos step); never read from a request body.
    public var owner: String?

    /// Creates a request.
    public init(
        fault: FaultSpec,
        duration: Duration = FaultRequest.defaultDuration,
        by: String,
        reason: String?,
        owner: String? = nil
    ) {
        self.fault = fault
        self.duration = duration
        self.by = by
        self.reason = reason
        self.owner = owner
    }

    /// Reads a request body; a refusal names the field and what it accepts.
    init(_ body: CommandBody) throws(CommandRefusal) {
        guard let kindText = try body.string("kind") else {
            throw CommandRefusal(.badRequest, "\"kind\": missing (expected abort, delay, reset or bandwidth)")
        }
        guard let kind = FaultSpec.Kind(rawValue: kindText) else {
            throw CommandRefusal(
                .badRequest,
                "\"kind\": \"\(kindText)\" is not a fault kind (expected abort, delay, reset or bandwidth)"
            )
        }
        let specific: [FaultSpec.Kind: [String]] = [
            .abort: ["status"], .delay: ["delayMs", "jitterMs"], .reset: [], .bandwidth: ["bytesPerSecond"],
        ]
        for (other, names) in specific where other != kind {
            if let name = names.first(where: body.names.contains) {
                throw CommandRefusal(.badRequest, "\"\(name)\": does not apply to a fault of kind \(kind.rawValue)")
            }
        }
        let percent = try body.number("percent", in: 0.01...100) ?? 100
        var header: FaultSpec.HeaderMatch?
        if let object = try body.stringObject("header") {
            guard object.count == 2, let name = object["name"], let value = object["value"] else {
                throw CommandRefusal(.badRequest, "\"header\": expected {\"name\": …, \"value\": …}")
            }
            header = FaultSpec.HeaderMatch(name: name, value: value)
        }
        let durationMs =
            try body.int("durationMs", in: 1...Int(Self.maximumDuration.milliseconds))
            ?? Int(Self.defaultDuration.milliseconds)
        fault = FaultSpec(
            id: "new",
            kind: kind,
            status: try body.int("status", in: 400...599) ?? (kind == .abort ? 503 : nil),
            delayMs: try body.int("delayMs", in: 1...FaultSpec.maximumDelayMs),
            jitterMs: try body.int("jitterMs", in: 0...FaultSpec.maximumDelayMs),
            bytesPerSecond: try body.int("bytesPerSecond", in: 1...Int(Int32.max)),
            share: max(1, Int((percent * 100).rounded())),
            pathPrefix: try body.string("path"),
            method: try body.string("method"),
            header: header,
            version: try body.string("version"),
            expiresAtMs: 0,
            maxRequests: try body.int("maxRequests", in: 1...Int(Int32.max))
        )
        duration = .milliseconds(durationMs)
        by = try body.by
        reason = try body.string("reason")
        do {
            try fault.validate()
        } catch {
            // The spec's names are the body's, but for the path.
            let text =
                error.description.hasPrefix("pathPrefix") ? "path" + error.description.dropFirst(10) : error.description
            throw CommandRefusal(.badRequest, "\"\(text.prefix { $0 != ":" })\"\(text.drop { $0 != ":" })")
        }
    }
}
