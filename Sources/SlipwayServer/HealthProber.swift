import AsyncHTTPClient
import NIOCore
import SlipwayCore

/// Performs one HTTP health probe: `GET path` on the instance, passed when it answers 2xx or 3xx in time.
public struct HealthProber: Sendable {
    /// The outcome of a probe.
    public enum Outcome: Sendable, Equatable {
        case passed
        case failed(String)
    }

    private let client: HTTPClient

    /// A prober sending its requests through `client`.
    public init(client: HTTPClient) {
        self.client = client
    }

    /// Probes `http://host:port/path`, giving up after `timeout`.
    public func probe(host: String, port: Int, path: String, timeout: Duration) async -> Outcome {
        let request = HTTPClientRequest(url: "http://\(host):\(port)\(path)")
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            _ = try await response.body.collect(upTo: 64 * 1024)
            let code = Int(response.status.code)
            return (200..<400).contains(code) ? .passed : .failed("HTTP \(code)")
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return .failed("timed out after \(DurationText.format(timeout))")
        } catch {
            return .failed(Self.describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("remoteConnectionClosed") { return "connection closed" }
        if text.contains("connectTimeout") { return "connect timed out" }
        return text.count > 160 ? String(text.prefix(160)) + "…" : text
    }
}
