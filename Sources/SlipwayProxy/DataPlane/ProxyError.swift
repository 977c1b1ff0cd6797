import NIOHTTP1

/// Answers the proxy makes itself, each with a short plain-text body saying why.
enum ProxyError: Error {
    case badRequest(String)
    case requestTimeout
    case uriTooLong
    case headersTooLarge
    case badGateway(String)
    case serviceUnavailable(String)
    case gatewayTimeout

    var status: HTTPResponseStatus {
        switch self {
        case .badRequest: return .badRequest
        case .requestTimeout: return .requestTimeout
        case .uriTooLong: return .uriTooLong
        case .headersTooLarge: return .requestHeaderFieldsTooLarge
        case .badGateway: return .badGateway
        case .serviceUnavailable: return .serviceUnavailable
        case .gatewayTimeout: return .gatewayTimeout
        }
    }

    var body: String {
        switch self {
        case .badRequest(let reason): return "bad request: \(reason)\n"
        case .requestTimeout: return "request head not received in time\n"
        case .uriTooLong: return "request line too long\n"
        case .headersTooLarge: return "request headers too large\n"
        case .badGateway(let reason): return "bad gateway: \(reason)\n"
        case .serviceUnavailable(let reason): return "service unavailable: \(reason)\n"
        case .gatewayTimeout: return "gateway timeout: the instance did not answer in time\n"
        }
    }

    /// Whether the proxy closes the connection after answering (the request stream can no longer be trusted).
    var closesConnection: Bool {
        switch self {
        case .badRequest, .requestTimeout, .uriTooLong, .headersTooLarge: return true
        case .badGateway, .serviceUnavailable, .gatewayTimeout: return false
        }
    }
}
