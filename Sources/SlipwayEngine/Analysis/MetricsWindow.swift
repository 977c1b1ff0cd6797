import SlipwayConfig
import SlipwayCore

/// What the proxy measured of one version over one window.
public struct VersionWindow: Sendable, Equatable {
    /// Responses finished in the window.
    public var requests: Int
    /// 5xx responses among them.
    public var errors: Int
    /// Latency quantiles of the window (`p50` ... `p999`); absent when no latency was recorded.
    public var latencies: [AnalysisMetric: Duration]

    /// Creates a window of one version.
    public init(requests: Int, errors: Int, latencies: [AnalysisMetric: Duration] = [:]) {
        self.requests = requests
        self.errors = errors
        self.latencies = latencies
    }

    /// The value of `metric` in this window: rates as fractions, latencies in seconds; nil when nothing was
    /// measured.
    public func value(of metric: AnalysisMetric) -> Double? {
        switch metric {
        case .requests:
            return Double(requests)
        case .successRate:
            return requests > 0 ? Double(requests - errors) / Double(requests) : nil
        case .errorRate:
            return requests > 0 ? Double(errors) / Double(requests) : nil
        case .p50, .p90, .p95, .p99, .p999:
            return latencies[metric].map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        }
    }
}

/// Every version's traffic between two samples of the proxy's counters.
public struct MetricsWindow: Sendable, Equatable {
    /// When the window began.
    public var start: Moment
    /// When it ended.
    public var end: Moment
    /// Traffic by version; versions with no traffic may be absent.
    public var versions: [String: VersionWindow]

    /// Creates a window.
    public init(start: Moment, end: Moment, versions: [String: VersionWindow]) {
        self.start = start
        self.end = end
        self.versions = versions
    }

    /// The window of `version`, empty when it had no traffic.
    public subscript(version: String) -> VersionWindow {
        versions[version] ?? VersionWindow(requests: 0, errors: 0)
    }
}
