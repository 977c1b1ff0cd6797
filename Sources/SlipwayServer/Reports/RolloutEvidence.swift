import Foundation
import Logging
import SlipwayCore
import SlipwayProxy
import SlipwayStore

/// Records what a rollout's report shows of its traffic while it runs: each version's requests, 5xx and p99 over
/// time, and the requests answered 5xx, read from the data plane and written beside the event log.
///
/// A rollout is recorded from its start until ``afterEnd`` past its end, so the report also shows how traffic
/// recovered after a rollback. Points are ``minimumInterval`` apart at first and spread out as the rollout grows
/// older (a thousandth of its age), so a canary paused for days keeps a few thousand points, not millions. At most
/// ``failureCap`` failed requests are kept per rollout, and the evidence of the newest ``keptRollouts`` rollouts of
/// each app.
public actor RolloutEvidence {
    /// What is being recorded: an app and its rollout, with when it started and (once over) ended.
    public struct Subject: Sendable, Equatable {
        public var app: String
        public var rollout: Int
        public var startedAt: Date
        public var endedAt: Date?

        /// Creates a subject.
        public init(app: String, rollout: Int, startedAt: Date, endedAt: Date?) {
            self.app = app
            self.rollout = rollout
            self.startedAt = startedAt
            self.endedAt = endedAt
        }
    }

    /// How long after its end a rollout is still recorded.
    public static let afterEnd: TimeInterval = 30
    /// The shortest time between two points.
    public static let minimumInterval: TimeInterval = 2
    /// Failed requests kept per rollout.
    public static let failureCap = 500
    /// Rollouts per app whose evidence is kept.
    public static let keptRollouts = 100
    /// Failed requests read from the data plane at once.
    static let failureBatch = 200

    private struct Progress {
        var rollout: Int
        var base: AppTrafficSample?
        var baseTime: Date?
        var failuresAfter: Int64
    }

    private let log: EventLog
    private let router: @Sendable () -> (any TrafficRouter)?
    private let subjects: @Sendable () -> [Subject]
    private let logger: Logger
    private var progress: [String: Progress] = [:]

    /// A recorder that reads the data plane through `router` (nil while none is attached) for the rollouts
    /// `subjects` names.
    public init(
        log: EventLog,
        logger: Logger,
        router: @escaping @Sendable () -> (any TrafficRouter)?,
        subjects: @escaping @Sendable () -> [Subject]
    ) {
        self.log = log
        self.logger = logger
        self.router = router
        self.subjects = subjects
    }

    /// Records every `tick` until the task is cancelled.
    public func run(tick: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            await record(at: Date())
            try? await Task.sleep(for: tick)
        }
    }

    /// Reads and records what is due for every rollout being recorded at `now`.
    public func record(at now: Date) async {
        guard let router = router() else { return }
        let due = subjects().filter { subject in
            subject.endedAt.map { now.timeIntervalSince($0) <= Self.afterEnd } ?? true
        }
        let recorded = Set(due.map(\.app))
        progress = progress.filter { recorded.contains($0.key) }
        for subject in due {
            await record(subject, router: router, at: now)
        }
    }

    private func record(_ subject: Subject, router: any TrafficRouter, at now: Date) async {
        var state: Progress
        if let known = progress[subject.app], known.rollout == subject.rollout {
            state = known
        } else {
            state = start(subject)
        }
        var points: [RolloutTrafficPoint] = []
        if let sample = try? await router.sample(subject.app) {
            if let base = state.base, let baseTime = state.baseTime {
                let age = now.timeIntervalSince(subject.startedAt)
                if now.timeIntervalSince(baseTime) >= max(Self.minimumInterval, age / 1_000) {
                    points = Self.points(from: base, to: sample, at: now)
                    state.base = sample
                    state.baseTime = now
                }
            } else {
                state.base = sample
                state.baseTime = now
            }
        }
        let failures =
            (try? await router.failedRequests(subject.app, after: state.failuresAfter, limit: Self.failureBatch)) ?? []
        if let last = failures.last { state.failuresAfter = last.timeNs }
        progress[subject.app] = state
        do {
            try log.addEvidence(
                app: subject.app,
                rollout: subject.rollout,
                points: points,
                failures: failures,
                failureCap: Self.failureCap
            )
        } catch {
            logger.warning("cannot record the evidence of rollout #\(subject.rollout) of \(subject.app): \(error)")
        }
    }

    /// The first sight of a rollout: failed requests are read from its start (or from the last one recorded, after a
    /// restart); older rollouts of the app lose their evidence beyond the newest ``keptRollouts``.
    private func start(_ subject: Subject) -> Progress {
        let started = Int64(subject.startedAt.timeIntervalSince1970 * 1_000_000_000)
        let recorded = (try? log.newestFailureTime(app: subject.app, rollout: subject.rollout)) ?? 0
        do {
            try log.pruneEvidence(app: subject.app, keepingNewest: Self.keptRollouts)
        } catch {
            logger.warning("cannot prune the rollout evidence of \(subject.app): \(error)")
        }
        return Progress(rollout: subject.rollout, failuresAfter: max(started, recorded))
    }

    /// Each version's traffic between two samples, stamped `time`; empty when `later` was not taken after `earlier`.
    static func points(
        from earlier: AppTrafficSample,
        to later: AppTrafficSample,
        at time: Date
    ) -> [RolloutTrafficPoint] {
        let seconds = later.seconds(since: earlier)
        guard seconds > 0 else { return [] }
        return later.versions.sorted { $0.key < $1.key }.map { version, snapshot in
            let window = snapshot.window(since: earlier.versions[version] ?? .empty)
            return RolloutTrafficPoint(
                time: time,
                version: version,
                seconds: seconds,
                requests: window.requests,
                errors: window.errors,
                p99Ms: VersionRates(window, seconds: seconds).p99Ms
            )
        }
    }
}
