import SlipwayConfig
import SlipwayProxy

extension TracingExport {
    /// The export `controller.tracing` describes.
    public init(_ spec: TracingSpec) {
        self.init(
            endpoint: spec.endpoint,
            sampleRatio: Double(spec.sampleRatio.basisPoints) / 10_000,
            serviceName: spec.serviceName,
            json: spec.wireFormat == .json
        )
    }
}
