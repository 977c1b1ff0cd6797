import NIOHTTP1

@testable import SlipwayProxy

/// The old front end's checks after llhttp, kept as the differential test's reference: rejects request heads whose body length is ambiguous (the ground request smuggling grows on) or whose target
/// host is.
///
/// The HTTP parser already refuses malformed framing; these checks cover what it lets through and make the
/// policy explicit: a request with both `Content-Length` and `Transfer-Encoding`, with differing `Content-Length`
/// values, or with any transfer coding other than a single, plain `chunked` is refused; so is an HTTP/1.1 request
/// without a `Host` header or with more than one (RFC 9112 §3.2: the server must answer 400).
enum OldFrontEndChecks {
    /// How the body of a request is delimited.
    enum Body: Equatable {
        case none
        case length(Int)
        case chunked
    }

    /// The body framing of `head`, or why it is refused.
    static func check(_ head: HTTPRequestHead) -> Result<Body, ProxyError> {
        let headers = head.headers
        var length: Int?
        var transferEncodings = 0
        var chunked = false
        var hosts = 0
        for (name, value) in headers {
            if name.utf8.count == 4, name.lowercased() == "host" {
                hosts += 1
            } else if name.utf8.count == 14, name.lowercased() == "content-length" {
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let trimmed = part.trimmingSpaces()
                    guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let parsed = Int(trimmed)
                    else { return .failure(.badRequest("invalid Content-Length")) }
                    if let length, length != parsed { return .failure(.badRequest("conflicting Content-Length")) }
                    length = parsed
                }
            } else if name.utf8.count == 17, name.lowercased() == "transfer-encoding" {
                transferEncodings += 1
                // Only exactly `chunked` (any case): `xchunked`, `chunked, identity`, `gzip, chunked` are refused.
                guard value.trimmingSpaces().lowercased() == "chunked", transferEncodings == 1 else {
                    return .failure(.badRequest("unsupported Transfer-Encoding"))
                }
                chunked = true
            }
        }
        if head.version.major == 1, head.version.minor >= 1, hosts != 1 {
            return .failure(.badRequest(hosts == 0 ? "no Host header" : "more than one Host header"))
        }
        if chunked {
            if length != nil { return .failure(.badRequest("both Content-Length and Transfer-Encoding")) }
            if head.version.major == 1, head.version.minor == 0 {
                return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request"))
            }
            return .success(.chunked)
        }
        if let length, length > 0 { return .success(.length(length)) }
        return .success(.none)
    }
}
