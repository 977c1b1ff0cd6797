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
            accessLog: accessLogPath.flatMap { path in
                spec.accessLog.map { AccessLogSettings(path: path, maxBytes: $0.maxBytes, keep: $0.keep) }
            }
        )
    }
}
