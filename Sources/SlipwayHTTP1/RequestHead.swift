import NIOCore

/// How a message's body is delimited (RFC 9112 §6.3).
public enum MessageBody: Equatable, Sendable {
    /// No body.
    case none
    /// Exactly this many bytes.
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Everything until the connection closes (responses only).
    case untilClose
}

/// A request method, with the ones the proxy treats specially named.
public enum RequestMethod: UInt8, Sendable {
    case get, head, post, put, delete, options, trace, patch, connect, other

    /// Whether sending the request twice has the effect of sending it once (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .options, .trace, .delete, .put: return true
        case .post, .patch, .connect, .other: return false
        }
    }

    static func of(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> RequestMethod {
        func equal(_ literal: StaticString) -> Bool {
            guard range.count == literal.utf8CodeUnitCount else { return false }
            for index in 0..<range.count where bytes[range.lowerBound + index] != literal.utf8Start[index] {
                return false
            }
            return true
        }
        switch range.count {
        case 3: return equal("GET") ? .get : equal("PUT") ? .put : .other
        case 4: return equal("POST") ? .post : equal("HEAD") ? .head : .other
        case 5: return equal("PATCH") ? .patch : equal("TRACE") ? .trace : .other
        case 6: return equal("DELETE") ? .delete : .other
        case 7: return equal("OPTIONS") ? .options : equal("CONNECT") ? .connect : .other
        default: return .other
        }
    }
}

/// A request head as it arrived: its bytes, untouched, and the offsets of what the proxy reads in them.
///
/// The proxy forwards these bytes with a few edits (``UpstreamRequestHead``) instead of building a header list and
/// serializing it again. What it decided while parsing — how the body is framed, what the client asked of the
/// connection — is kept beside them.
public struct RequestHead: Sendable {
    /// The head from the first byte of the request line to the empty line that ends it, CRLF included.
    public var bytes: ByteBuffer
    /// The method, as far as the proxy cares.
    public var method: RequestMethod
    /// The method's bytes.
    public var methodRange: Range<Int>
    /// The request target's bytes (path and query, or an absolute URI).
    public var targetRange: Range<Int>
    /// Where `HTTP/1.x` starts in the request line; the fields start 10 bytes later.
    public var versionStart: Int
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// The header fields, in order.
    public var fields: [HeaderField]
    /// How the body is delimited.
    public var body: MessageBody
    /// The client wants the connection kept open after the response.
    public var keepAlive: Bool
    /// A protocol switch (WebSocket) is asked for: `Upgrade` named in `Connection`, on a GET.
    public var upgrade: Bool
    /// The client waits for `100 Continue` before it sends the body.
    public var expectsContinue: Bool
    /// `Connection` names fields other than `close`, `keep-alive` and `upgrade`, which must not be forwarded.
    public var connectionNamesFields: Bool

    /// The method as text.
    public var methodText: String { text(methodRange) }
    /// The request target as text.
    public var target: String { text(targetRange) }

    /// The text of a range of the head.
    public func text(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// The first field the proxy knows as `known`.
    public func first(_ known: KnownField) -> HeaderField? {
        fields.first { $0.known == known }
    }

    /// The value of the first field known as `known`.
    public func value(of known: KnownField) -> String? {
        first(known).map { text($0.value) }
    }

    /// Calls `body` with the bytes of each value whose field is named `name` (any case), in order, until it returns
    /// a result, and returns that result; nil when none did.
    public func firstValue<Result>(
        named name: String,
        _ body: (UnsafeBufferPointer<UInt8>) -> Result?
    ) -> Result? {
        bytes.withUnsafeReadableBytes { head in
            var name = name
            return name.withUTF8 { wanted in
                for field in fields where field.name.count == wanted.count {
                    var equal = true
                    for (offset, byte) in zip(field.name, wanted)
                    where HTTPBytes.lower(head[offset]) != HTTPBytes.lower(byte) {
                        equal = false
                        break
                    }
                    guard equal else { continue }
                    let value = UnsafeRawBufferPointer(rebasing: head[field.value]).assumingMemoryBound(to: UInt8.self)
                    if let result = body(value) { return result }
                }
                return nil
            }
        }
    }

    /// The first value of the fields named `name` (any case), as text.
    public func firstValue(named name: String) -> String? {
        firstValue(named: name) { String(decoding: $0, as: UTF8.self) }
    }
}
