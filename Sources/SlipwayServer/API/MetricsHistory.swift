import Foundation
import ServiceLifecycle
import SlipwayProxy

/// The recent traffic of every app, one point per interval (a second by default), the last `capacity` points.
///
/// A `Service`: ``run()`` samples every listener each interval until cancelled or shut down gracefully. The points
/// feed the dashboard's charts through `GET /api/v1/apps/{app}/metrics`.
public actor MetricsHistory: Service {
    /// How many points are kept per app: ten minutes at one a second.
    public static let defaultCapacity = 600

    /// The most points kept per app.
    public let capacity: Int
    /// The time between samples.
    public let interval: Duration
    private let sample: @Sendable () async -> [AppTrafficSample]
    private let counted: (@Sendable ([String: Int], Date) -> Void)?
    private var previous: [String: AppTrafficSample] = [:]
    private var points: [String: [MetricsPoint]] = [:]

    /// A history that reads every app's traffic with `sample`.
    public init(
        capacity: Int = MetricsHistory.defaultCapacity,
        interval: Duration = .seconds(1),
        sample: @escaping @Sendable () async -> [AppTrafficSample],
        counted: (@Sendable (_ requests: [String: Int], _ at: Date) -> Void)? = nil
    ) {
        self.capacity = max(1, capacity)
        self.interval = interval
        self.sample = sample
        self.counted = counted
    }

    /// Samples every interval until the task is cancelled or the service group shuts down.
    public func run() async throws {
        let clock = ContinuousClock()
        var deadline = clock.now
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            record(await sample(), at: Date())
            deadline += interval
            // A late wake-up (a busy machine) skips ahead rather than sampling in a burst.
            if deadline < clock.now { deadline = clock.now + interval }
            let wakeUp = deadline
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(until: wakeUp, clock: clock) }
            } catch {
                return
            }
        }
    }

    /// Adds a point per app from `samples` and the app's previous sample; an app's first sample only sets the base.
    /// The requests each app received since its previous sample go to `counted`.
    public func record(_ samples: [AppTrafficSample], at time: Date) {
        var requests: [String: Int] = [:]
        for sample in samples {
            defer { previous[sample.app] = sample }
            guard let earlier = previous[sample.app], let point = MetricsPoint.between(earlier, sample, at: time) else {
                continue
            }
            requests[sample.app] = sample.versions.reduce(0) { total, entry in
                total + max(0, entry.value.requests - (earlier.versions[entry.key]?.requests ?? 0))
            }
            var series = points[sample.app, default: []]
            series.append(point)
            if series.count > capacity { series.removeFirst(series.count - capacity) }
            points[sample.app] = series
        }
        if let counted, !requests.isEmpty { counted(requests, time) }
    }

    /// The points of `app` over the last `seconds`, oldest first.
    public func series(app: String, seconds: Int) -> MetricsSeries {
        let step = max(1, Int(interval.components.seconds))
        let count = max(0, seconds / step)
        return MetricsSeries(intervalSeconds: step, points: Array(points[app, default: []].suffix(count)))
    }
}
