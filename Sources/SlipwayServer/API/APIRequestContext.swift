import Hummingbird
import NIOCore

/// Who a request was authenticated as.
public enum Principal: Sendable, Equatable {
    /// The request carried the API token (`Authorization: Bearer …`): a CLI or a pipeline.
    case token
    /// The request carried a dashboard session cookie; state-changing requests also need the session's CSRF token.
    case session(id: String)
}

/// The request context of every route of the controller's HTTP server.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware; nil on public routes (`/healthz`, `/metrics`, the sign-in page).
    public var principal: Principal?
    /// The client's address (the sign-in throttle counts wrong tokens per client).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}
