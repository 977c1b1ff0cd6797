import Foundation
import SlipwayCore
import SlipwayProxy

/// One version's traffic over one sampling interval.
public struct VersionRates: Sendable, Equatable, Codable {
    /// Requests finished per second.
    public var rps: Double
    /// The share of finished requests answered 5xx (0 when none finished).
    public var errorRate: Double
    /// The 99th percentile latency in milliseconds; null when no request finished.
    public var p99Ms: Double?

    /// The rates of `requests` finished, `errors` of them 5xx, over `seconds`, with their 99th percentile `p99`.
    public init(requests: Int, errors: Int, p99: Duration?, seconds: Double) {
        rps = seconds > 0 ? Double(requests) / seconds : 0
        errorRate = requests > 0 ? Double(errors) / Double(requests) : 0
        p99Ms = p99.map(\.inMilliseconds)
    }

    /// The rates of `window`, which lasted `seconds`.
    public init(_ window: TrafficWindow, seconds: Double) {
        self.init(
            requests: window.requests,
            errors: window.errors,
            p99: window.latency(quantile: 0.99),
            seconds: seconds
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rps, forKey: .rps)
        try container.encode(errorRate, forKey: .errorRate)
        try container.encode(p99Ms, forKey: .p99Ms)
    }
}

/// An app's traffic per version over one sampling interval, stamped with when the interval ended.
public struct MetricsPoint: Sendable, Equatable, Codable {
    /// When the interval ended.
    public var t: Date
    /// Rates by version.
    public var versions: [String: VersionRates]
    /// The waiting room over the interval, when the app has one.
    public var waitingRoom: WaitingRoomRates?

    /// Creates a point.
    public init(t: Date, versions: [String: VersionRates], waitingRoom: WaitingRoomRates? = nil) {
        self.t = t
        self.versions = versions
        self.waitingRoom = waitingRoom
    }

    /// The traffic between two samples of one app, stamped `time`; nil when `later` was not taken after `earlier`.
    ///
    /// A version absent from `earlier` (it just got its first instance) counts everything `later` holds.
    public static func between(_ earlier: AppTrafficSample, _ later: AppTrafficSample, at time: Date) -> MetricsPoint? {
        let seconds = later.seconds(since: earlier)
        guard seconds > 0 else { return nil }
        var versions: [String: VersionRates] = [:]
        for (version, snapshot) in later.versions {
            let window = snapshot.window(since: earlier.versions[version] ?? .empty)
            versions[version] = VersionRates(window, seconds: seconds)
        }
        let room = later.waitingRoom.map { WaitingRoomRates($0, since: earlier.waitingRoom, seconds: seconds) }
        return MetricsPoint(t: time, versions: versions, waitingRoom: room)
    }
}

/// An app's waiting room over one sampling interval: its line at the end, and what happened during it.
public struct WaitingRoomRates: Sendable, Equatable, Codable {
    /// Requests waiting when the interval ended.
    public var waiting: Int
    /// The limit of requests in flight then.
    public var limit: Int
    /// Let in after waiting, per second.
    public var admittedPerSecond: Double
    /// Refused (the line full, or the queue timeout reached), per second.
    public var refusedPerSecond: Double
    /// The mean wait of those let in, in milliseconds; null when none was.
    public var meanWaitMs: Double?

    /// The rates between `earlier` (nil: the room's start) and `later`, `seconds` apart.
    public init(_ later: WaitingRoomState, since earlier: WaitingRoomState?, seconds: Double) {
        let base = earlier ?? WaitingRoomState()
        let admitted = max(0, later.admittedAfterWaiting - base.admittedAfterWaiting)
        let refused = max(0, later.refusedFull + later.timedOut - base.refusedFull - base.timedOut)
        waiting = later.waiting
        limit = later.limit
        admittedPerSecond = seconds > 0 ? Double(admitted) / seconds : 0
        refusedPerSecond = seconds > 0 ? Double(refused) / seconds : 0
        meanWaitMs = admitted > 0 ? max(0, later.waitedSeconds - base.waitedSeconds) * 1000 / Double(admitted) : nil
    }
}

/// What `GET /api/v1/apps/{app}/metrics` answers: evenly spaced points, oldest first.
public struct MetricsSeries: Sendable, Equatable, Codable {
    /// The spacing of the points.
    public var intervalSeconds: Int
    public var points: [MetricsPoint]

    /// Creates a series.
    public init(intervalSeconds: Int, points: [MetricsPoint]) {
        self.intervalSeconds = intervalSeconds
        self.points = points
    }
}

extension AppTrafficSample {
    /// The seconds between `earlier` and this sample (zero or less when this one is not later).
    func seconds(since earlier: AppTrafficSample) -> Double {
        (takenAt - earlier.takenAt).inSeconds
    }
}
