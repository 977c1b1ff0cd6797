import NIOCore
import SlipwayConfig
import SlipwayProxy

extension ProxySettings {
    /// The listener settings an app's `proxy:` section describes.
    public init(_ spec: ProxySpec) {
        self.init(
            maxConnections: spec.maxConnections,
            maxHeaderBytes: spec.maxHeaderBytes,
            maxRequestLineBytes: spec.maxRequestLineBytes,
            idleTimeout: TimeAmount(spec.idleTimeout),
            headerTimeout: TimeAmount(spec.headerTimeout),
            connectTimeout: TimeAmount(spec.connectTimeout),
            responseTimeout: TimeAmount(spec.responseTimeout),
            upstreamConnections: spec.upstreamConnections,
            idleUpstreamConnections: spec.idleUpstreamConnections
        )
    }
}
