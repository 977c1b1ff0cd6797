import NIOConcurrencyHelpers
import NIOCore
import SlipwayCore

/// Carries out an app's ``OutlierDetector``: told by the connections when an instance fails in a row, it looks at
/// every instance's counts each interval, marks instances ejected or back, probes them, and keeps what happened for
/// the controller (``OutlierEvent``) and the metrics.
///
/// The request path reads only the instances' atomics; the lock here is taken when an instance has failed
/// ``OutlierSettings/consecutiveFailures`` times in a row, once an interval, and per probe.
final class OutlierGuard: Sendable {
    let settings: OutlierSettings
    private let state: NIOLockedValueBox<State>
    private let loop: any EventLoop
    private let task: NIOLockedValueBox<RepeatedTask?>

    private struct State: Sendable {
        var detector: OutlierDetector<ObjectIdentifier>
        var instances: [ObjectIdentifier: UpstreamInstance] = [:]
        /// The latest events, oldest first, at most ``eventCapacity``.
        var events: [OutlierEvent] = []
        /// Ejections so far per instance id, for the metrics.
        var ejections: [String: Int] = [:]
        /// Versions whose circuit is open now.
        var openCircuits: Set<String> = []
    }

    /// Events kept for the controller, which reads them with each sample.
    static let eventCapacity = 256

    init(settings: OutlierSettings, loop: any EventLoop) {
        self.settings = settings
        self.loop = loop
        self.state = NIOLockedValueBox(State(detector: OutlierDetector(settings: settings)))
        self.task = NIOLockedValueBox(nil)
    }

    /// Starts looking at the instances every interval.
    func start() {
        let interval = TimeAmount.milliseconds(Int64(settings.intervalMs))
        let repeated = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            intervalEnded()
        }
        task.withLockedValue { $0 = repeated }
    }

    func stop() {
        task.withLockedValue { task in
            task?.cancel()
            task = nil
        }
    }

    /// The instances of a new route table; the ones it no longer names are forgotten (and taken back in, should
    /// they return).
    func routed(_ table: RouteTable) {
        let instances = table.instances
        let gone = state.withLockedValue { state -> [UpstreamInstance] in
            var next: [ObjectIdentifier: UpstreamInstance] = [:]
            for instance in instances { next[ObjectIdentifier(instance)] = instance }
            let gone = state.instances.filter { next[$0.key] == nil }.map(\.value)
            state.instances = next
            state.detector.route(instances.map { (ObjectIdentifier($0), $0.version) })
            updateCircuits(&state, now: NIODeadline.now().uptimeNanoseconds)
            return gone
        }
        for instance in gone where instance.isEjected { instance.setEjected(false) }
    }

    /// `instance` has failed ``OutlierSettings/consecutiveFailures`` times in a row or more.
    func failedInARow(_ instance: UpstreamInstance, now: NIODeadline) {
        let actions = state.withLockedValue { state -> [OutlierDetector<ObjectIdentifier>.Action] in
            let failing = Set(
                state.instances.values.filter {
                    $0.version == instance.version && $0.consecutiveFailures >= settings.consecutiveFailures
                }.map(ObjectIdentifier.init)
            )
            let actions = state.detector.failedInARow(
                ObjectIdentifier(instance),
                failing: failing,
                now: now.uptimeNanoseconds
            )
            apply(actions, to: &state, now: now.uptimeNanoseconds)
            return actions
        }
        probe(actions)
    }

    /// Who is out now, the ejections so far and the latest events.
    var current: OutlierState {
        state.withLockedValue { state in
            OutlierState(
                ejected: state.instances.values.filter(\.isEjected).map(\.id).sorted(),
                ejections: state.ejections,
                openCircuits: state.openCircuits.sorted(),
                events: state.events
            )
        }
    }

    // MARK: Carrying out

    private func intervalEnded() {
        let now = NIODeadline.now().uptimeNanoseconds
        let actions = state.withLockedValue { state -> [OutlierDetector<ObjectIdentifier>.Action] in
            var counts: [ObjectIdentifier: OutlierDetector<ObjectIdentifier>.Counts] = [:]
            for (key, instance) in state.instances {
                let taken = instance.takeIntervalCounts()
                counts[key] = .init(requests: taken.requests, failures: taken.failures)
            }
            let actions = state.detector.intervalEnded(counts: counts, now: now)
            apply(actions, to: &state, now: now)
            return actions
        }
        probe(actions)
    }

    private func probe(_ actions: [OutlierDetector<ObjectIdentifier>.Action]) {
        for case .probe(let key) in actions {
            guard let instance = state.withLockedValue({ $0.instances[key] }) else { continue }
            let timeout = TimeAmount.milliseconds(Int64(settings.probeTimeoutMs))
            InstanceProbe.run(instance, path: settings.probePath, timeout: timeout, on: loop).whenSuccess {
                [self] passed in
                let now = NIODeadline.now().uptimeNanoseconds
                state.withLockedValue { state in
                    let actions = state.detector.probed(key, passed: passed, now: now)
                    apply(actions, to: &state, now: now)
                }
            }
        }
    }

    private func apply(_ actions: [OutlierDetector<ObjectIdentifier>.Action], to state: inout State, now: UInt64) {
        for action in actions {
            switch action {
            case .eject(let key, let nanoseconds, let reason):
                guard let instance = state.instances[key] else { continue }
                instance.setEjected(true)
                state.ejections[instance.id, default: 0] += 1
                record(
                    OutlierEvent(
                        instance: instance.id,
                        version: instance.version,
                        kind: .ejected,
                        detail: "\(reason)",
                        ejectedForMs: Int(nanoseconds / 1_000_000)
                    ),
                    in: &state
                )
            case .readmit(let key):
                guard let instance = state.instances[key] else { continue }
                instance.setEjected(false)
                record(
                    OutlierEvent(
                        instance: instance.id,
                        version: instance.version,
                        kind: .returned,
                        detail: "probe passed"
                    ),
                    in: &state
                )
            case .probe:
                break
            }
        }
        updateCircuits(&state, now: now)
    }

    private func updateCircuits(_ state: inout State, now: UInt64) {
        let versions = Set(state.instances.values.map(\.version))
        let open = Set(versions.filter { state.detector.isOpen($0) })
        for version in open.subtracting(state.openCircuits).sorted() {
            record(
                OutlierEvent(
                    instance: nil,
                    version: version,
                    kind: .circuitOpened,
                    detail: "every instance fails: requests are answered 503 at once"
                ),
                in: &state
            )
        }
        for version in state.openCircuits.subtracting(open).intersection(versions).sorted() {
            record(
                OutlierEvent(instance: nil, version: version, kind: .circuitClosed, detail: "an instance is back"),
                in: &state
            )
        }
        state.openCircuits = open
    }

    private func record(_ event: OutlierEvent, in state: inout State) {
        var event = event
        // Distinct and increasing, so that a reader can ask for the events after the last one it saw.
        event.timeNs = max(FailedRequest.now(), (state.events.last?.timeNs ?? 0) + 1)
        state.events.append(event)
        if state.events.count > Self.eventCapacity { state.events.removeFirst(state.events.count - Self.eventCapacity) }
    }
}

/// Something outlier detection did, for the controller's event log.
public struct OutlierEvent: Sendable, Equatable, Codable {
    /// What happened.
    public enum Kind: String, Sendable, Codable {
        /// The instance was taken out of rotation.
        case ejected
        /// The instance is back in rotation.
        case returned
        /// Every instance of the version is out: its requests are answered 503 at once.
        case circuitOpened
        /// The version has an instance in rotation again.
        case circuitClosed
    }

    /// When, in nanoseconds since 1970.
    public var timeNs: Int64
    /// The instance, for ejections and returns.
    public var instance: String?
    /// The instance's version, or the version whose circuit changed.
    public var version: String
    public var kind: Kind
    /// Why, in words: the rule that ejected, or what brought it back.
    public var detail: String
    /// How long an ejection lasts before the instance is probed.
    public var ejectedForMs: Int?

    /// An event; its time is set when it is recorded.
    public init(
        timeNs: Int64 = 0,
        instance: String?,
        version: String,
        kind: Kind,
        detail: String,
        ejectedForMs: Int? = nil
    ) {
        self.timeNs = timeNs
        self.instance = instance
        self.version = version
        self.kind = kind
        self.detail = detail
        self.ejectedForMs = ejectedForMs
    }
}
