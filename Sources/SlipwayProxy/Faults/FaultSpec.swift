/// One fault the proxy injects into a listener's requests, as a value that crosses the control channel, is kept in
/// the data plane's state file and is recorded in the event log.
///
/// A fault applies to a share of the requests that match it, drawn per request, until it expires (an absolute
/// time, so it expires by itself even when no controller runs) or until it has affected `maxRequests` requests.
public struct FaultSpec: Sendable, Equatable, Codable {
    /// What the fault does to a request it applies to.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// Answered by the proxy with `status`; the request reaches no instance.
        case abort
        /// Held `delayMs` (plus up to `jitterMs`, drawn per request) before it is sent to the instance.
        case delay
        /// The client connection is reset (TCP RST) at once; the request reaches no instance.
        case reset
        /// The response body reaches the client at no more than `bytesPerSecond`.
        case bandwidth
    }

    /// A header the request must carry with this exact value.
    public struct HeaderMatch: Sendable, Equatable, Codable {
        /// The header's name (any case).
        public var name: String
        /// Its value, compared exactly.
        public var value: String

        /// Creates a header match.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Its id, unique among the faults of a listener.
    public var id: String
    /// What it does.
    public var kind: Kind
    /// `abort`: the status answered, 400...599.
    public var status: Int?
    /// `delay`: the fixed part of the delay, in milliseconds.
    public var delayMs: Int?
    /// `delay`: the largest extra delay, in milliseconds, drawn uniformly per request (0 by default).
    public var jitterMs: Int?
    /// `bandwidth`: the response body's rate, in bytes per second.
    public var bytesPerSecond: Int?
    /// The share of matching requests it applies to, in basis points (1...10000).
    public var share: Int
    /// Only requests whose target starts with this (e.g. `/api/`); nil for any.
    public var pathPrefix: String?
    /// Only requests with this method (upper case); nil for any.
    public var method: String?
    /// Only requests carrying this header value; nil for any.
    public var header: HeaderMatch?
    /// Only requests routed to this version; nil for any.
    public var version: String?
    /// When it stops applying, in milliseconds since 1970.
    public var expiresAtMs: Int64
    /// The most requests it affects; nil for no bound.
    public var maxRequests: Int?

    /// Creates a fault.
    public init(
        id: String,
        kind: Kind,
        status: Int? = nil,
        delayMs: Int? = nil,
        jitterMs: Int? = nil,
        bytesPerSecond: Int? = nil,
        share: Int,
        pathPrefix: String? = nil,
        method: String? = nil,
        header: HeaderMatch? = nil,
        version: String? = nil,
        expiresAtMs: Int64,
        maxRequests: Int? = nil
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.delayMs = delayMs
        self.jitterMs = jitterMs
        self.bytesPerSecond = bytesPerSecond
        self.share = share
        self.pathPrefix = pathPrefix
        self.method = method
        self.header = header
        self.version = version
        self.expiresAtMs = expiresAtMs
        self.maxRequests = maxRequests
    }

    /// The longest delay a fault may hold a request.
    public static let maximumDelayMs = 600_000

    /// Checks the fault's fields; the error names the field and what it accepts.
    public func validate() throws(FaultSpecError) {
        guard !id.isEmpty, id.utf8.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else { throw FaultSpecError("id: \"\(id)\" is not a fault id (1 to 64 letters, digits, '-', '_', '.')") }
        guard (1...10_000).contains(share) else {
            throw FaultSpecError("share: \(share) is out of range (expected 1...10000 basis points, i.e. 0.01%...100%)")
        }
        switch kind {
        case .abort:
            guard let status else { throw FaultSpecError("status: an abort needs the status to answer (400...599)") }
            guard (400...599).contains(status) else {
                throw FaultSpecError("status: \(status) is not an error status (expected 400...599)")
            }
        case .delay:
            guard let delayMs else { throw FaultSpecError("delayMs: a delay needs its length") }
            guard (1...Self.maximumDelayMs).contains(delayMs) else {
                throw FaultSpecError("delayMs: \(delayMs) is out of range (expected 1...\(Self.maximumDelayMs))")
            }
            if let jitterMs, !(0...Self.maximumDelayMs).contains(jitterMs) {
                throw FaultSpecError("jitterMs: \(jitterMs) is out of range (expected 0...\(Self.maximumDelayMs))")
            }
        case .reset:
            break
        case .bandwidth:
            guard let bytesPerSecond else { throw FaultSpecError("bytesPerSecond: a bandwidth limit needs its rate") }
            guard bytesPerSecond >= 1 else {
                throw FaultSpecError("bytesPerSecond: \(bytesPerSecond) is not a rate (expected at least 1)")
            }
        }
        let unused: [(String, Bool)] = [
            ("status", status != nil && kind != .abort),
            ("delayMs", delayMs != nil && kind != .delay),
            ("jitterMs", jitterMs != nil && kind != .delay),
            ("bytesPerSecond", bytesPerSecond != nil && kind != .bandwidth),
        ]
        if let (field, _) = unused.first(where: \.1) {
            throw FaultSpecError("\(field): does not apply to a fault of kind \(kind.rawValue)")
        }
        if let pathPrefix, !pathPrefix.hasPrefix("/") {
            throw FaultSpecError("pathPrefix: \"\(pathPrefix)\" does not start with '/'")
        }
        if let method, method.isEmpty || !method.allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "-") }) {
            throw FaultSpecError("method: \"\(method)\" is not an upper-case method name such as GET")
        }
        if let header {
            guard !header.name.isEmpty, header.name.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ":" }) else {
                throw FaultSpecError("header.name: \"\(header.name)\" is not a header name")
            }
        }
        if let version, version.isEmpty { throw FaultSpecError("version: is empty") }
        if let maxRequests, maxRequests < 1 {
            throw FaultSpecError("maxRequests: \(maxRequests) is not a count (expected at least 1)")
        }
    }

    /// The fault in a few words, e.g. `abort 503 on 10% of GET /api/* of version 2.0`.
    public var summary: String {
        var words: String
        switch kind {
        case .abort: words = "abort \(status ?? 0)"
        case .delay:
            words = "delay \(delayMs ?? 0)ms"
            if let jitterMs, jitterMs > 0 { words += " (+0..\(jitterMs)ms)" }
        case .reset: words = "reset"
        case .bandwidth: words = "bandwidth \(bytesPerSecond ?? 0) B/s"
        }
        let percent = Double(share) / 100
        words += " on \(percent == percent.rounded() ? String(Int(percent)) : String(percent))% of"
        if let method { words += " \(method)" }
        words += " " + (pathPrefix.map { $0 + "*" } ?? "requests")
        if let header { words += " with \(header.name): \(header.value)" }
        if let version { words += " to version \(version)" }
        if let maxRequests { words += ", at most \(maxRequests) requests" }
        return words
    }
}

/// A fault the data plane cannot apply; nothing changed.
public struct FaultSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, with the field's name.
    public var description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}

/// A fault and what it did so far, as the data plane reports it.
public struct FaultStatus: Sendable, Equatable, Codable {
    /// The fault.
    public var spec: FaultSpec
    /// The requests it affected so far.
    public var affected: Int
    /// Whether it still applies: not expired, and below its request bound.
    public var active: Bool

    /// Creates a status.
    public init(spec: FaultSpec, affected: Int, active: Bool) {
        self.spec = spec
        self.affected = affected
        self.active = active
    }
}
