import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Where a process exports its traces: an OTLP/HTTP receiver, the ratio new traces are sampled at, and the service
/// name. The controller hands the same settings to the data plane process it starts (``arguments``).
public struct TracingExport: Sendable, Equatable {
    /// The receiver's base URL (`http://127.0.0.1:4318`); spans go to `/v1/traces`.
    public var endpoint: String
    /// 0...1: the share of new traces kept (a request whose parent is sampled is always kept).
    public var sampleRatio: Double
    /// `service.name`.
    public var serviceName: String
    /// `http/json` instead of `http/protobuf`.
    public var json: Bool

    /// Creates the settings.
    public init(endpoint: String, sampleRatio: Double, serviceName: String, json: Bool) {
        self.endpoint = endpoint
        self.sampleRatio = min(1, max(0, sampleRatio))
        self.serviceName = serviceName
        self.json = json
    }

    /// The command-line arguments of `slipway-dataplane` that carry these settings.
    public var arguments: [String] {
        [
            "--otlp-endpoint", endpoint, "--trace-ratio", String(sampleRatio), "--service-name", serviceName,
            "--otlp-protocol", json ? "json" : "protobuf",
        ]
    }

    /// A tracer exporting here, and the service that batches and sends its spans: run it (it flushes on graceful
    /// shutdown) for anything to be exported. The standard `OTEL_*` environment variables override these settings.
    public func makeBackend() throws -> (tracer: any Tracer, service: any Service) {
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = endpoint + "/v1/traces"
        configuration.traces.otlpExporter.protocol = json ? .httpJSON : .httpProtobuf
        configuration.traces.sampler = .parentBasedTraceIDRatio(ratio: sampleRatio) ?? .parentBasedAlwaysOn
        configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }
}
