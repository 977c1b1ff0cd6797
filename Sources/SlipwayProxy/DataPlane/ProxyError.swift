import NIOCore
import SlipwayHTTP1

/// Answers the proxy makes itself, each with a short plain-text body saying why.
enum ProxyError: Error {
    case badRequest(String)
    case requestTimeout
    case uriTooLong
    case headersTooLarge
    case versionNotSupported
    case badGateway(String)
    case serviceUnavailable(String)
    case gatewayTimeout
    /// A fault's abort: the status it names (400...599), marked `X-Slipway-Fault: abort`.
    case injected(status: Int)

    /// The answer to a request head or body the front end refused.
    init(_ error: HeadError) {
        switch error {
        case .badRequest(let reason): self = .badRequest(reason)
        case .requestLineTooLong: self = .uriTooLong
        case .headTooLarge: self = .headersTooLarge
        case .unsupportedVersion: self = .versionNotSupported
        case .badResponse(let reason): self = .badGateway(reason)
        }
    }

    var status: Int {
        switch self {
        case .badRequest: return 400
        case .requestTimeout: return 408
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .versionNotSupported: return 505
        case .badGateway: return 502
        case .serviceUnavailable: return 503
        case .gatewayTimeout: return 504
        case .injected(let status): return status
        }
    }

    /// The status line's reason phrase.
    private var reasonPhrase: StaticString {
        switch self {
        case .badRequest: return "Bad Request"
        case .requestTimeout: return "Request Timeout"
        case .uriTooLong: return "URI Too Long"
        case .headersTooLarge: return "Request Header Fields Too Large"
        case .versionNotSupported: return "HTTP Version Not Supported"
        case .badGateway: return "Bad Gateway"
        case .serviceUnavailable: return "Service Unavailable"
        case .gatewayTimeout: return "Gateway Timeout"
        case .injected(let status): return Self.reasonPhrase(of: status)
        }
    }

    private static func reasonPhrase(of status: Int) -> StaticString {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: status < 500 ? "Client Error" : "Server Error"
        }
    }

    var body: String {
        switch self {
        case .badRequest(let reason): return "bad request: \(reason)\n"
        case .requestTimeout: return "request head not received in time\n"
        case .uriTooLong: return "request line too long\n"
        case .headersTooLarge: return "request headers too large\n"
        case .versionNotSupported: return "HTTP version not supported: this proxy speaks HTTP/1.0 and HTTP/1.1\n"
        case .badGateway(let reason): return "bad gateway: \(reason)\n"
        case .serviceUnavailable(let reason): return "service unavailable: \(reason)\n"
        case .gatewayTimeout: return "gateway timeout: the instance did not answer in time\n"
        case .injected: return "fault injected by slipway\n"
        }
    }

    /// Whether the proxy closes the connection after answering (the request stream can no longer be trusted).
    var closesConnection: Bool {
        switch self {
        case .badRequest, .requestTimeout, .uriTooLong, .headersTooLarge, .versionNotSupported: return true
        case .badGateway, .serviceUnavailable, .gatewayTimeout, .injected: return false
        }
    }

    /// Writes the whole answer, head and body, for a client speaking HTTP/1.`minorVersion`; to a `HEAD` request
    /// (`headOnly`) the head alone, its `Content-Length` that of the body a GET would get.
    func writeAnswer(minorVersion: Int, keepAlive: Bool, headOnly: Bool = false, into out: inout ByteBuffer) {
        let body = self.body
        out.writeStaticString(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.writeString(String(status))
        out.writeStaticString(" ")
        out.writeStaticString(reasonPhrase)
        out.writeStaticString("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
        out.writeString(String(body.utf8.count))
        out.writeStaticString("\r\nServer: slipway\r\n")
        if case .injected = self {
            out.writeStaticString("X-Slipway-Fault: abort\r\n")
        } else if status == 503 {
            out.writeStaticString("Retry-After: 1\r\n")
        }
        if !keepAlive {
            out.writeStaticString("Connection: close\r\n")
        } else if minorVersion == 0 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        if !headOnly { out.writeString(body) }
    }
}
