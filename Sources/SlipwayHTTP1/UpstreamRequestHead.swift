import NIOCore

/// Writes a request head as an instance receives it: the client's bytes, with only the proxy's edits.
///
/// - The request line as it came, as HTTP/1.1 (the proxy speaks HTTP/1.1 to instances), with a `Host` added to an
///   HTTP/1.0 request that had none.
/// - Hop-by-hop fields removed (RFC 9110 §7.6.1) and those `Connection` names, except `Upgrade` on a protocol
///   switch, which is sent with `Connection: Upgrade`.
/// - `Expect: 100-continue` removed: the proxy answers it and reads the body itself.
/// - `X-Forwarded-For` gets the client's address appended (the client's own values first, joined into one
///   field); `X-Forwarded-Proto: http` and `X-Request-Id` are added when the client sent none.
/// - `traceparent` and `tracestate` replaced when the proxy continues the trace in a span of its own.
///
/// Every other byte is copied as it arrived, in runs between the removed fields.
public enum UpstreamRequestHead {
    /// Writes `head` into `out` with the edits above. When the client sent no `X-Request-Id`, one made by
    /// `requestID` is added (as 16 hex digits, ``RequestID/text(_:)``) and returned; `trace`, when given, replaces
    /// the client's trace context fields.
    @discardableResult
    public static func write(
        _ head: RequestHead,
        clientAddress: String?,
        trace: (traceparent: String, tracestate: String?)? = nil,
        into out: inout ByteBuffer,
        requestID: () -> UInt64
    ) -> UInt64? {
        let requestID = head.fields.contains { $0.known == .xRequestID } ? nil : requestID()
        head.bytes.withUnsafeReadableBytes { bytes in
            let fieldsStart = head.versionStart + 10
            if head.minorVersion == 1 {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<fieldsStart]))
            } else {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<head.versionStart]))
                out.writeStaticString("HTTP/1.1\r\n")
            }
            let named = head.connectionNamesFields ? HTTPBytes.connectionNames(head.fields, bytes) : []
            var forwardedFor: [Range<Int>] = []
            var hasForwardedProto = false
            var hasHost = false
            HTTPBytes.writeFields(head.fields, from: fieldsStart, of: bytes, into: &out) { field in
                switch field.known {
                case .connection, .keepAlive, .proxyConnection, .te, .trailer:
                    return false
                case .upgrade:
                    return head.upgrade
                case .expect:
                    return !head.expectsContinue
                case .traceparent, .tracestate:
                    return trace == nil
                case .xForwardedFor:
                    if clientAddress != nil { forwardedFor.append(field.value) }
                    return clientAddress == nil
                case .xForwardedProto:
                    hasForwardedProto = true
                    return true
                case .host:
                    hasHost = true
                    return true
                case .other:
                    return named.isEmpty || !named.contains { HTTPBytes.equalIgnoringCase(bytes, $0, field.name) }
                default:
                    return true
                }
            }
            if !hasHost {
                // HTTP/1.0 needs no Host, HTTP/1.1 does: the target's authority, or empty (RFC 9112 §3.2).
                out.writeStaticString("Host: ")
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[authority(of: head.targetRange, in: bytes)]))
                out.writeStaticString("\r\n")
            }
            if head.upgrade { out.writeStaticString("Connection: Upgrade\r\n") }
            if let clientAddress {
                out.writeStaticString("X-Forwarded-For: ")
                for value in forwardedFor where !value.isEmpty {
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[value]))
                    out.writeStaticString(", ")
                }
                out.writeString(clientAddress)
                out.writeStaticString("\r\n")
            }
            if !hasForwardedProto { out.writeStaticString("X-Forwarded-Proto: http\r\n") }
            if let requestID {
                out.writeStaticString("X-Request-Id: ")
                RequestID.write(requestID, into: &out)
                out.writeStaticString("\r\n")
            }
            if let trace {
                out.writeStaticString("traceparent: ")
                out.writeString(trace.traceparent)
                out.writeStaticString("\r\n")
                if let tracestate = trace.tracestate {
                    out.writeStaticString("tracestate: ")
                    out.writeString(tracestate)
                    out.writeStaticString("\r\n")
                }
            }
            out.writeStaticString("\r\n")
        }
        return requestID
    }

    /// The authority of an absolute-form target (`http://authority/path`); empty for any other form.
    private static func authority(of target: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Range<Int> {
        guard bytes[target.lowerBound] != UInt8(ascii: "/"),
            let slashes = target.indices.first(where: { index in
                index + 2 < target.upperBound && bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == 47
                    && bytes[index + 2] == 47
            })
        else { return target.lowerBound..<target.lowerBound }
        let start = slashes + 3
        var end = start
        while end < target.upperBound, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"),
            bytes[end] != UInt8(ascii: "#")
        {
            end += 1
        }
        return start..<end
    }
}

/// The request ids the proxy adds: 64 random bits as 16 lowercase hex digits.
public enum RequestID {
    /// Writes `id` as 16 hex digits, without making a string.
    public static func write(_ id: UInt64, into out: inout ByteBuffer) {
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: 16) { bytes in
            for index in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: id >> (60 - 4 * index)) & 0xF
                bytes[index] = nibble < 10 ? 48 + nibble : 87 + nibble
            }
            return 16
        }
    }

    /// `id` as 16 hex digits.
    public static func text(_ id: UInt64) -> String {
        var buffer = ByteBuffer()
        write(id, into: &buffer)
        return String(buffer: buffer)
    }
}
