/// What the fields the proxy knows say, gathered while parsing.
struct FieldSummary {
    var hosts = 0
    var contentLength: Int?
    var transferEncodings = 0
    /// The last transfer coding named is `chunked`.
    var chunked = false
    var connectionClose = false
    var connectionKeepAlive = false
    var connectionUpgrade = false
    var connectionNamesFields = false
    var upgradeField = false
    var expectsContinue = false

    /// Takes in one known field; returns why the head is refused, if it is.
    mutating func note(
        _ known: KnownField,
        value: Range<Int>,
        raw: Range<Int>,
        in bytes: UnsafeRawBufferPointer,
        kind: HeadKind
    ) -> HeadError? {
        // The framing fields are forwarded as they came, so they must read the same to every parser after this one:
        // a tab after `chunked` is a classic way to hide it from some of them.
        let trailingTab =
            (known == .contentLength || known == .transferEncoding)
            && bytes[value.upperBound..<raw.upperBound].contains(HTTPBytes.tab)
        switch known {
        case .host:
            hosts += 1
        case .contentLength:
            // A list of equal values is one value (RFC 9110 §8.6); anything but digits is refused.
            if trailingTab { return kind.error("invalid Content-Length") }
            var error: HeadError?
            HTTPBytes.forEachListItem(bytes, value) { part in
                guard !part.isEmpty, part.count <= 18 else {
                    error = kind.error("invalid Content-Length")
                    return false
                }
                var length = 0
                for offset in part {
                    let digit = bytes[offset] &- 48
                    guard digit < 10 else {
                        error = kind.error("invalid Content-Length")
                        return false
                    }
                    length = length * 10 + Int(digit)
                }
                if let contentLength, contentLength != length {
                    error = kind.error("conflicting Content-Length")
                    return false
                }
                contentLength = length
                return true
            }
            if let error { return error }
        case .transferEncoding:
            transferEncodings += 1
            if kind == .request {
                // Only exactly `chunked` (any case): `xchunked`, `chunked, identity`, `gzip, chunked` are refused.
                guard transferEncodings == 1, !trailingTab, HTTPBytes.equalsIgnoringCase(bytes, value, "chunked") else {
                    return .badRequest("unsupported Transfer-Encoding")
                }
                chunked = true
            } else {
                // A response may be compressed and chunked; what counts for framing is the last coding.
                guard !trailingTab else { return .badResponse("invalid Transfer-Encoding") }
                var last = value.upperBound
                while last > value.lowerBound, bytes[last - 1] != HTTPBytes.comma { last -= 1 }
                chunked = HTTPBytes.equalsIgnoringCase(
                    bytes,
                    HTTPBytes.trimmed(bytes, last..<value.upperBound),
                    "chunked"
                )
            }
        case .connection:
            HTTPBytes.forEachListItem(bytes, value) { token in
                switch HTTPBytes.connectionOption(bytes, token) {
                case .close: connectionClose = true
                case .keepAlive: connectionKeepAlive = true
                case .upgrade: connectionUpgrade = true
                case .field: connectionNamesFields = true
                case .empty: break
                }
                return true
            }
        case .upgrade:
            upgradeField = true
        case .expect:
            expectsContinue = HTTPBytes.equalsIgnoringCase(bytes, value, "100-continue")
        default:
            break
        }
        return nil
    }

    /// A request body's framing, or why the head is refused.
    func requestFraming(minorVersion: Int) -> Result<MessageBody, HeadError> {
        // HTTP/1.0 needs no Host, but two are ambiguous in any version (and the request is forwarded as HTTP/1.1).
        if hosts > 1 { return .failure(.badRequest("more than one Host header")) }
        if minorVersion == 1, hosts == 0 { return .failure(.badRequest("no Host header")) }
        if chunked {
            if contentLength != nil { return .failure(.badRequest("both Content-Length and Transfer-Encoding")) }
            if minorVersion == 0 { return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request")) }
            return .success(.chunked)
        }
        if let contentLength, contentLength > 0 { return .success(.length(contentLength)) }
        return .success(.none)
    }
}

extension FieldSummary {
    /// A response body's framing (RFC 9112 §6.3), given the request it answers, or why it cannot be passed on.
    func responseFraming(status: Int, requestMethod: RequestMethod) -> Result<MessageBody, HeadError> {
        if requestMethod == .head || status < 200 || status == 204 || status == 304 { return .success(.none) }
        if transferEncodings > 0 {
            // Both framings at once is how responses get desynchronised from requests on a kept-alive connection.
            if contentLength != nil { return .failure(.badResponse("both Content-Length and Transfer-Encoding")) }
            return .success(chunked ? .chunked : .untilClose)
        }
        if let contentLength { return .success(contentLength > 0 ? .length(contentLength) : .none) }
        return .success(.untilClose)
    }
}
