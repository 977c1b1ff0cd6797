import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Steady synthetic traffic for the demo: a few request loops against the app's listener, counting answers per
/// version.
final class DemoLoad: Sendable {
    /// What one version answered.
    struct Tally: Sendable, Equatable {
        var requests = 0
        var errors = 0
    }

    private final class Counters: Sendable {
        let tallies = Mutex<[String: Tally]>([:])
        let unanswered = Atomic<Int>(0)
    }

    private let counters = Counters()
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Starts `loops` loops, together about `rate` requests per second, against `port`.
    init(client: HTTPClient, port: Int, rate: Int = 120, loops: Int = 4) {
        let interval = Duration.milliseconds(1000 * loops / max(rate, 1))
        let counters = self.counters
        let work = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<loops {
                    group.addTask {
                        while !Task.isCancelled {
                            let started = ContinuousClock.now
                            do {
                                let response = try await client.execute(
                                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/"),
                                    timeout: .seconds(5)
                                )
                                let body = try await response.body.collect(upTo: 64 * 1024)
                                let version =
                                    response.headers.first(name: "X-Demo-Version")
                                    ?? Self.version(in: String(buffer: body)) ?? "?"
                                let failed = response.status.code >= 500
                                counters.tallies.withLock { tallies in
                                    tallies[version, default: Tally()].requests += 1
                                    if failed { tallies[version, default: Tally()].errors += 1 }
                                }
                            } catch {
                                if Task.isCancelled { return }
                                counters.unanswered.add(1, ordering: .relaxed)
                            }
                            try? await Task.sleep(until: started + interval)
                        }
                    }
                }
            }
        }
        task.withLock { $0 = work }
    }

    /// The tallies so far, and requests that got no answer at all.
    var snapshot: (versions: [String: Tally], unanswered: Int) {
        (counters.tallies.withLock { $0 }, counters.unanswered.load(ordering: .relaxed))
    }

    /// Stops the loops and waits for them.
    func stop() async {
        let work = task.withLock { $0 }
        work?.cancel()
        await work?.value
    }

    private static func version(in body: String) -> String? {
        guard let range = body.range(of: "\"version\":\"") else { return nil }
        let rest = body[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
