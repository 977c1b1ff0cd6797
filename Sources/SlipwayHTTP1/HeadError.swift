/// Why a message head or body framing was refused, and the status a server answers it with.
public enum HeadError: Error, Equatable, Sendable {
    /// Malformed or ambiguous: answered 400 and the connection closed.
    case badRequest(String)
    /// The request line is longer than allowed: 414.
    case requestLineTooLong
    /// The head is larger than allowed: 431.
    case headTooLarge
    /// Neither HTTP/1.0 nor HTTP/1.1: 505.
    case unsupportedVersion
    /// An instance's response the proxy cannot pass on safely: answered 502 when nothing was sent yet.
    case badResponse(String)

    /// The status code the proxy answers with.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .requestLineTooLong: return 414
        case .headTooLarge: return 431
        case .unsupportedVersion: return 505
        case .badResponse: return 502
        }
    }

    /// A short reason, for the plain-text answer and the logs.
    public var reason: String {
        switch self {
        case .badRequest(let reason): return reason
        case .requestLineTooLong: return "request line too long"
        case .headTooLarge: return "request headers too large"
        case .unsupportedVersion: return "HTTP version not supported"
        case .badResponse(let reason): return "malformed response (\(reason))"
        }
    }
}
