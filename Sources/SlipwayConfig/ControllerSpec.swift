import Foundation

/// Settings of the controller process (key `controller`).
public struct ControllerSpec: Sendable, Equatable {
    /// The address of the controller's HTTP API (key `api`). Default `127.0.0.1:7070`.
    public var api: HostPort
    /// The absolute directory where the controller keeps its state (key `stateDir`). Default `.slipway`
    /// beside the configuration file.
    public var stateDirectory: String
    /// Where the API token comes from (key `token`; from YAML, `.generated` when absent); nil when the API needs no
    /// token (`token: none`).
    public var token: TokenSource?
    /// The event-loop threads shared by the listeners of all apps (key `proxyThreads`), 1...64. Default
    /// `defaultProxyThreads`.
    public var proxyThreads: Int
    /// Where people reach the dashboard (behind a proxy, say), for links in notifications; nil for `http://<api>`.
    public var dashboardURL: String?
    /// The Prometheus that `{query: …}` analysis checks ask (key `prometheus`); nil when none is configured.
    public var prometheus: PrometheusSpec?
    /// Where traces go over OTLP/HTTP (key `tracing`); nil exports none.
    public var tracing: TracingSpec?
    /// The position of the `controller` mapping, or the start of the document when the key is absent.
    public var location: SourceLocation

    /// The API address used when `api` is absent.
    public static let defaultAPI = HostPort(host: "127.0.0.1", port: 7070)
    /// The state directory used when `stateDir` is absent, relative to the configuration file's directory.
    public static let defaultStateDirectory = ".slipway"
    /// The largest accepted `proxyThreads`.
    public static let maximumProxyThreads = 64
    /// The proxy threads used when `proxyThreads` is absent: the number of CPU cores online, from 1 to
    /// `maximumProxyThreads`.
    public static let defaultProxyThreads = min(max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1), maximumProxyThreads)

    /// Creates controller settings.
    public init(
        api: HostPort = ControllerSpec.defaultAPI,
        stateDirectory: String,
        token: TokenSource? = nil,
        proxyThreads: Int = ControllerSpec.defaultProxyThreads,
        location: SourceLocation = .documentStart
    ) {
        self.api = api
        self.stateDirectory = stateDirectory
        self.token = token
        self.proxyThreads = proxyThreads
        self.location = location
    }
}

/// `controller.prometheus`: where PromQL checks are evaluated. Written as a URL (`http://127.0.0.1:9090`) or as
/// `{url: …, timeout: 5s}`.
public struct PrometheusSpec: Sendable, Equatable {
    /// The server's base URL; `/api/v1/query` is appended.
    public var url: String
    /// How long one query may take; a slower answer makes the window inconclusive. Key `timeout`; default 5s.
    public var timeout: Duration

    /// A Prometheus at `url`.
    public init(url: String, timeout: Duration = .seconds(5)) {
        self.url = url
        self.timeout = timeout
    }
}

/// `controller.tracing`: OpenTelemetry traces of the proxy's requests and of every rollout, exported over OTLP/HTTP.
public struct TracingSpec: Sendable, Equatable {
    /// The wire format of the export.
    public enum WireFormat: String, Sendable, Equatable {
        /// `http/protobuf`, what every OTLP receiver accepts.
        case protobuf
        /// `http/json`.
        case json
    }

    /// The receiver's base URL (`http://127.0.0.1:4318`); `/v1/traces` is appended. Key `endpoint`, required.
    public var endpoint: String
    /// The share of requests without a sampled parent whose traces are kept; a request whose `traceparent` says its
    /// trace is sampled is always traced. Key `sampleRatio`, 0% to 100%; default 10%.
    public var sampleRatio: Percentage
    /// The `service.name` of the spans. Key `serviceName`; default `slipway`.
    public var serviceName: String
    /// Key `protocol`: `protobuf` (default) or `json`.
    public var wireFormat: WireFormat

    /// Tracing to `endpoint`.
    public init(
        endpoint: String,
        sampleRatio: Percentage = Percentage(basisPoints: 1_000),
        serviceName: String = "slipway",
        wireFormat: WireFormat = .protobuf
    ) {
        self.endpoint = endpoint
        self.sampleRatio = sampleRatio
        self.serviceName = serviceName
        self.wireFormat = wireFormat
    }
}
