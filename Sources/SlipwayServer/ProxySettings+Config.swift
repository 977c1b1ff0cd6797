import NIOCore
import SlipwayConfig
import SlipwayProxy

extension ProxySettings {
    /// The listener settings an app's `proxy:` section describes; its access log, when on, goes to `accessLogPath`.
    public init(_ spec: ProxySpec, accessLogPath: String? = nil) {
        self.init(
            maxConnections: spec.maxConnections,
            maxHeaderBytes: spec.maxHeaderBytes,
            maxRequestLineBytes: spec.maxRequestLineBytes,
            idleTimeout: TimeAmount(spec.idleTimeout),
            headerTimeout: TimeAmount(spec.headerTimeout),
            connectTimeout: TimeAmount(spec.connectTimeout),
            responseTimeout: TimeAmount(spec.responseTimeout),
            upstreamConnections: spec.upstreamConnections,
            idleUpstreamConnections: spec.idleUpstreamConnections,
            accessLog: spec.accessLog.and(accessLogPath).map { log, path in
                AccessLogSettings(path: path, maxBytes: log.maxBytes, keep: log.keep)
            }
        )
    }
}

extension Optional {
    fileprivate func and<Other>(_ other: Other?) -> (Wrapped, Other)? {
        guard let self, let other else { return nil }
        return (self, other)
    }
}
