/// The header fields the proxy acts on. Every other field passes through as it came.
public enum KnownField: UInt8, Sendable {
    case other
    case host
    case contentLength
    case transferEncoding
    case connection
    case keepAlive
    case proxyConnection
    case te
    case trailer
    case upgrade
    case expect
    case cookie
    case setCookie
    case traceparent
    case tracestate
    case xForwardedFor
    case xForwardedProto
    case xRequestID
    /// `X-Slipway-Outcome`: what an instance reports about a request, for the analysis; never passed to clients.
    case slipwayOutcome

    /// Whether the field describes the connection it came on (RFC 9110 §7.6.1) and so never passes a proxy as it is.
    public var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyConnection, .te, .trailer, .upgrade: return true
        default: return false
        }
    }

    /// The field a name (a validated token) stands for.
    static func classify(_ bytes: UnsafeRawBufferPointer, _ name: Range<Int>) -> KnownField {
        let eq = HTTPBytes.equalsIgnoringCase
        switch name.count {
        case 2: return eq(bytes, name, "te") ? .te : .other
        case 4: return eq(bytes, name, "host") ? .host : .other
        case 6:
            if eq(bytes, name, "cookie") { return .cookie }
            return eq(bytes, name, "expect") ? .expect : .other
        case 7:
            if eq(bytes, name, "upgrade") { return .upgrade }
            return eq(bytes, name, "trailer") ? .trailer : .other
        case 10:
            if eq(bytes, name, "connection") { return .connection }
            if eq(bytes, name, "keep-alive") { return .keepAlive }
            if eq(bytes, name, "set-cookie") { return .setCookie }
            return eq(bytes, name, "tracestate") ? .tracestate : .other
        case 11: return eq(bytes, name, "traceparent") ? .traceparent : .other
        case 12: return eq(bytes, name, "x-request-id") ? .xRequestID : .other
        case 14: return eq(bytes, name, "content-length") ? .contentLength : .other
        case 15: return eq(bytes, name, "x-forwarded-for") ? .xForwardedFor : .other
        case 16: return eq(bytes, name, "proxy-connection") ? .proxyConnection : .other
        case 17:
            if eq(bytes, name, "transfer-encoding") { return .transferEncoding }
            if eq(bytes, name, "x-slipway-outcome") { return .slipwayOutcome }
            return eq(bytes, name, "x-forwarded-proto") ? .xForwardedProto : .other
        default: return .other
        }
    }
}

/// One header field of a head, as offsets into the head's bytes: nothing is copied out of them.
public struct HeaderField: Sendable, Equatable {
    private var nameStart: UInt32
    private var nameEnd: UInt32
    private var valueStart: UInt32
    private var valueEnd: UInt32
    private var lineEnd: UInt32
    /// What the proxy knows the field as.
    public var known: KnownField

    init(name: Range<Int>, value: Range<Int>, lineEnd: Int, known: KnownField) {
        nameStart = UInt32(name.lowerBound)
        nameEnd = UInt32(name.upperBound)
        valueStart = UInt32(value.lowerBound)
        valueEnd = UInt32(value.upperBound)
        self.lineEnd = UInt32(lineEnd)
        self.known = known
    }

    /// The name's bytes.
    public var name: Range<Int> { Int(nameStart)..<Int(nameEnd) }
    /// The value's bytes, without leading and trailing whitespace.
    public var value: Range<Int> { Int(valueStart)..<Int(valueEnd) }
    /// The whole field line, from the name to its CRLF included.
    public var line: Range<Int> { Int(nameStart)..<Int(lineEnd) }
}

/// Storage for the fields of a parser's next head: handed back by the caller once a head is done with, so that a
/// connection's heads reuse one array instead of growing a new one each time.
struct FieldStorage: Sendable {
    private var spare: [HeaderField] = []

    /// An empty array with room for a usual head's fields.
    mutating func take() -> [HeaderField] {
        var fields = spare
        spare = []
        if fields.capacity == 0 { fields.reserveCapacity(16) }
        return fields
    }

    /// Keeps `fields`' storage for the next head.
    mutating func recycle(_ fields: consuming [HeaderField]) {
        var fields = fields
        fields.removeAll(keepingCapacity: true)
        if fields.capacity > spare.capacity { spare = fields }
    }
}
