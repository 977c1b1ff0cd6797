import NIOCore
import SlipwayConfig
import SlipwayCore
import SlipwayProxy

extension ProxySettings {
    /// The listener settings an app's `proxy:` section describes; its access log, when on, goes to `accessLogPath`,
    /// and ejected instances are probed at `healthPath` unless the section names a path of its own.
    public init(_ spec: ProxySpec, healthPath: String = HealthCheckSpec().path, accessLogPath: String? = nil) {
        self.init(
            maxConnections: spec.maxConnections,
            maxHeaderBytes: spec.maxHeaderBytes,
            maxRequestLineBytes: spec.maxRequestLineBytes,
            idleTimeout: TimeAmount(spec.idleTimeout),
            headerTimeout: TimeAmount(spec.headerTimeout),
            connectTimeout: TimeAmount(spec.connectTimeout),
            responseTimeout: TimeAmount(spec.responseTimeout),
            upstreamConnections: spec.upstreamConnections,
            idleUpstreamConnections: spec.idleUpstreamConnections,
            accessLog: accessLogPath.flatMap { path in
                spec.accessLog.map { AccessLogSettings(path: path, maxBytes: $0.maxBytes, keep: $0.keep) }
            },
            outliers: spec.outlierDetection.map { OutlierSettings($0, healthPath: healthPath) },
            retries: RetrySettings(spec.retries),
            waitingRoom: spec.waitingRoom.map(WaitingRoomSettings.init)
        )
    }
}

extension WaitingRoomSettings {
    /// The waiting room an app's `proxy.waitingRoom` describes.
    public init(_ spec: WaitingRoomSpec) {
        var total: Int?
        var perInstance: Int?
        switch spec.limit {
        case .total(let limit): total = limit
        case .perInstance(let limit): perInstance = limit
        }
        self.init(
            maxInFlight: total,
            maxInFlightPerInstance: perInstance,
            queueSize: spec.queue,
            queueTimeoutMs: Int(spec.queueTimeout.milliseconds),
            waitingPage: spec.waitingPage,
            pageRefreshMs: Int(spec.pageRefresh.milliseconds)
        )
    }
}

extension OutlierSettings {
    /// The detection an app's `proxy.outlierDetection` describes; probes go to `healthPath` unless it names a path.
    public init(_ spec: OutlierDetectionSpec, healthPath: String) {
        self.init(
            consecutiveFailures: spec.consecutiveFailures,
            intervalMs: Int(spec.interval.milliseconds),
            baseEjectionMs: Int(spec.baseEjectionTime.milliseconds),
            maxEjectionMs: Int(spec.maxEjectionTime.milliseconds),
            maxEjectedPercent: spec.maxEjectedPercent,
            successRateMinimumRequests: spec.successRateMinimumRequests ?? 0,
            successRateDropPercent: spec.successRateDropPercent,
            probePath: spec.probePath ?? healthPath,
            probeTimeoutMs: Int(spec.probeTimeout.milliseconds)
        )
    }
}

extension RetrySettings {
    /// The retries an app's `proxy.retries` describes.
    public init(_ spec: RetrySpec) {
        self.init(
            attempts: spec.attempts,
            on: Set(spec.on.compactMap(Condition.init(rawValue:))),
            budgetPercent: spec.budgetPercent,
            minimumPerSecond: spec.minimumPerSecond,
            perTryTimeoutMs: spec.perTryTimeout.map { Int($0.milliseconds) }
        )
    }
}
