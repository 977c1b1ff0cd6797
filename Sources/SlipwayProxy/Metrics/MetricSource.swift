/// Where the engine reads the proxy's measurements (later also Prometheus).
///
/// Samples are cumulative; windows are differences of two samples.
public protocol MetricSource: Sendable {
    /// The current cumulative traffic of `app`.
    func sample(app: String) async throws -> AppTrafficSample
}
