import SlipwayCore

/// A Kubernetes API call failed: the server's `Status` when it sent one, else what went wrong on the way.
public struct KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (0 when no answer came).
    public var code: Int
    /// The `Status` reason: `NotFound`, `AlreadyExists`, `Conflict`, `Expired`, `Gone`, `Forbidden`, `Invalid`…
    public var reason: String?
    /// What the server (or the connection) said.
    public var message: String
    /// The `details.causes[].reason` the server gave (`FieldManagerConflict`, `FieldValueInvalid`…).
    public var causes: [String]
    /// The seconds the server asked to wait (`Retry-After`), for a 429 or 503.
    public var retryAfter: Int?
    /// The method and path of the call.
    public var call: String

    /// An error.
    public init(
        code: Int,
        reason: String? = nil,
        message: String,
        causes: [String] = [],
        retryAfter: Int? = nil,
        call: String
    ) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.retryAfter = retryAfter
        self.call = call
    }

    /// The error a `Status` object describes (an answer's body, or a watch's `ERROR` event).
    init(status: JSONValue, code: Int, retryAfter: Int? = nil, call: String) {
        guard case .object(let fields) = status else {
            self.init(code: code, message: "HTTP \(code)", retryAfter: retryAfter, call: call)
            return
        }
        var causes: [String] = []
        if case .object(let details) = fields["details"], case .array(let list) = details["causes"] {
            for case .object(let cause) in list {
                if let reason = cause["reason"]?.stringValue { causes.append(reason) }
            }
        }
        self.init(
            code: fields["code"]?.intValue ?? code,
            reason: fields["reason"]?.stringValue,
            message: fields["message"]?.stringValue ?? "HTTP \(code)",
            causes: causes,
            retryAfter: retryAfter,
            call: call
        )
    }

    /// The resource version asked for is older than the server keeps (410): list again.
    public var isExpired: Bool { code == 410 }
    /// The object does not exist (404).
    public var isNotFound: Bool { code == 404 }
    /// Another field manager owns a field (409 with `FieldManagerConflict`), or the object changed (409).
    public var isConflict: Bool { code == 409 }

    public var description: String {
        var text = "\(call): \(code == 0 ? "no answer" : "HTTP \(code)")"
        if let reason { text += " \(reason)" }
        text += ": \(message)"
        if !causes.isEmpty { text += " (\(causes.joined(separator: ", ")))" }
        return text
    }
}
