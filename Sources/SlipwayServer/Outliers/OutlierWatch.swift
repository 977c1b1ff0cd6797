import Foundation
import SlipwayCore
import SlipwayProxy
import Synchronization

/// Turns what the data plane's outlier detection does into events in the log, and tells each app's executor of an
/// ejection so that its health checks look at the instance at once.
///
/// Each sample of an app carries the data plane's latest outlier events with distinct, increasing times; the watch
/// records those later than the last it recorded (and, after a start, later than the start: what happened while no
/// controller ran stays in the data plane's metrics).
final class OutlierWatch: Sendable {
    private let apps: [String]
    private let router: @Sendable () -> (any TrafficRouter)?
    private let recorder: EventRecorder
    private let executors: [String: AppExecutor]
    private let seen: Mutex<[String: Int64]>

    init(
        apps: [String],
        router: @escaping @Sendable () -> (any TrafficRouter)?,
        recorder: EventRecorder,
        executors: [String: AppExecutor],
        since: Int64 = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
    ) {
        self.apps = apps
        self.router = router
        self.recorder = recorder
        self.executors = executors
        self.seen = Mutex(Dictionary(uniqueKeysWithValues: apps.map { ($0, since) }))
    }

    /// Looks every `tick` until cancelled.
    func run(tick: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await look()
            try? await Task.sleep(for: tick)
        }
    }

    /// Records what each app's outlier detection did since the last look.
    func look() async {
        guard let router = router() else { return }
        for app in apps {
            guard let sample = try? await router.sample(app) else { continue }
            await observe(sample.outliers.events, of: app)
        }
    }

    func observe(_ events: [OutlierEvent], of app: String) async {
        let new = seen.withLock { seen -> [OutlierEvent] in
            let last = seen[app] ?? 0
            let new = events.filter { $0.timeNs > last }
            if let newest = new.last { seen[app] = newest.timeNs }
            return new
        }
        for event in new {
            recorder.record(Self.event(event, of: app))
            if event.kind == .ejected, let instance = event.instance {
                await executors[app]?.outlierEjected(InstanceID(instance))
            }
        }
    }

    static func event(_ event: OutlierEvent, of app: String) -> Event {
        var fields: [String: JSONValue] = ["version": .string(event.version), "reason": .string(event.detail)]
        if let length = event.ejectedForMs { fields["ejectedForMs"] = .int(length) }
        let kind: EventKind
        switch event.kind {
        case .ejected: kind = .instanceEjected
        case .returned: kind = .instanceReturned
        case .circuitOpened: kind = .circuitOpened
        case .circuitClosed: kind = .circuitClosed
        }
        return Event(app: app, kind: kind, instance: event.instance.map(InstanceID.init), fields: fields)
    }
}
