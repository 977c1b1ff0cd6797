import NIOCore

/// Writes an instance's response head as the client receives it: the instance's bytes, with only the proxy's
/// edits.
///
/// - The status line in the client's HTTP version, the rest of it as it came.
/// - Hop-by-hop fields removed (RFC 9110 §7.6.1), and those `Connection` names; on `101 Switching Protocols`,
///   `Connection` and `Upgrade` are kept.
/// - `X-Slipway-Outcome` removed: it is for the proxy's analysis.
/// - `Transfer-Encoding` removed when the body's chunk framing is taken off (an HTTP/1.0 client), or
///   `Transfer-Encoding: chunked` added when a body delimited by the instance closing is chunked for a client
///   that keeps its connection.
/// - `Connection: close` when the client's connection ends after this response, `Connection: keep-alive` for an
///   HTTP/1.0 client whose connection stays; any extra field lines the proxy adds (a routing cookie).
///
/// Every other byte is copied as it arrived, in runs between the removed fields.
public enum ClientResponseHead {
    /// What happens to the body's framing on its way to the client.
    public enum BodyFraming: Sendable {
        /// Passed on as it came.
        case asIs
        /// The instance's chunk framing is taken off.
        case chunkingRemoved
        /// The body, delimited by the instance closing, is chunked for the client.
        case chunkingAdded
    }

    /// Writes `head` into `out` for a client speaking HTTP/1.`clientMinorVersion`.
    public static func write(
        _ head: ResponseHead,
        clientMinorVersion: Int,
        clientKeepAlive: Bool,
        framing: BodyFraming = .asIs,
        extraFields: String? = nil,
        into out: inout ByteBuffer
    ) {
        head.bytes.withUnsafeReadableBytes { bytes in
            out.writeStaticString(clientMinorVersion == 0 ? "HTTP/1.0" : "HTTP/1.1")
            let switching = head.status == 101
            if head.isInterim {
                // An interim response (103 Early Hints) is passed on as it is, in the client's version.
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[8...]))
                return
            }
            let named = head.connectionNamesFields ? HTTPBytes.connectionNames(head.fields, bytes) : []
            HTTPBytes.writeFields(head.fields, from: 8, of: bytes, into: &out) { field in
                switch field.known {
                case .connection, .upgrade:
                    return switching
                case .keepAlive, .proxyConnection, .te, .trailer, .slipwayOutcome:
                    return false
                case .transferEncoding:
                    return framing != .chunkingRemoved
                case .other:
                    return named.isEmpty || !named.contains { HTTPBytes.equalIgnoringCase(bytes, $0, field.name) }
                default:
                    return true
                }
            }
            if framing == .chunkingAdded { out.writeStaticString("Transfer-Encoding: chunked\r\n") }
            if !switching {
                if !clientKeepAlive {
                    out.writeStaticString("Connection: close\r\n")
                } else if clientMinorVersion == 0 {
                    out.writeStaticString("Connection: keep-alive\r\n")
                }
            }
            if let extraFields { out.writeString(extraFields) }
            out.writeStaticString("\r\n")
        }
    }
}
