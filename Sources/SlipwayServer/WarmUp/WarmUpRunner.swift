import AsyncHTTPClient
import NIOCore
import SlipwayConfig

/// Warms a new instance up before it takes traffic: GET requests sent straight to it (not through the proxy), the
/// synthetic ones of the ``WarmUpSpec`` first, then a replay of the app's recent real requests.
public struct WarmUpRunner: Sendable {
    /// A request gets at most this long of its own, and never more than the whole warm-up.
    static let requestTimeout = Duration.seconds(5)

    private let client: HTTPClient

    /// A runner sending with `client`, which must allow at least the spec's `concurrency` connections per host for
    /// that many requests to be in flight at once. With its `connectionPool.retryConnectionEstablishment` off, a
    /// refused connection fails its request at once; with it on, the client keeps trying until the request's timeout.
    public init(client: HTTPClient) {
        self.client = client
    }

    /// Sends the warm-up requests to `host:port`, at most `spec.concurrency` at a time, and returns what happened.
    /// `replay` is the app's recent request targets, newest first; at most `spec.replay` of them are sent, in
    /// order. Nothing is thrown: failed requests are counted, and at `spec.timeout` (or when the task is cancelled)
    /// the warm-up stops, abandoning what is in flight.
    public func run(host: String, port: Int, spec: WarmUpSpec, replay: [String]) async -> WarmUpReport {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + spec.timeout
        let base = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        var plan = WarmUpPlan(spec: spec, replay: replay, start: start)
        let concurrency = max(1, spec.concurrency)
        var outcomes: [(request: WarmUpPlan.Request, outcome: WarmUpReport.Outcome)] = []
        await withTaskGroup(of: (WarmUpPlan.Request, WarmUpReport.Outcome).self) { group in
            var inFlight = 0
            while true {
                while inFlight < concurrency, !Task.isCancelled, let request = plan.next(now: clock.now) {
                    let requestDeadline = min(clock.now + min(Self.requestTimeout, spec.timeout), deadline)
                    group.addTask {
                        let outcome = await self.send(base + request.target, by: requestDeadline, warmUpEnds: deadline)
                        return (request, outcome)
                    }
                    inFlight += 1
                }
                guard let finished = await group.next() else { break }
                inFlight -= 1
                outcomes.append(finished)
            }
        }
        return WarmUpReport(outcomes: outcomes, took: clock.now - start, cutShort: plan.cutShort)
    }

    /// GETs `url`, reading and dropping the whole body, unless `deadline` passes first.
    private func send(
        _ url: String,
        by deadline: ContinuousClock.Instant,
        warmUpEnds: ContinuousClock.Instant
    ) async -> WarmUpReport.Outcome {
        let clock = ContinuousClock()
        let started = clock.now
        let status = await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                do {
                    let remaining = TimeAmount.nanoseconds(Int64((deadline - clock.now).nanoseconds))
                    let response = try await client.execute(HTTPClientRequest(url: url), deadline: .now() + remaining)
                    for try await _ in response.body {}
                    return Int(response.status.code)
                } catch {
                    return nil
                }
            }
            // The client's deadline ends the wait for the head only; this one covers the body too.
            group.addTask {
                try? await Task.sleep(until: deadline, clock: clock)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let status {
            return .answered(status: status, latency: clock.now - started)
        }
        return Task.isCancelled || clock.now >= warmUpEnds ? .abandoned : .failed
    }
}
