import NIOCore
import NIOPosix
import SlipwayCore

/// What the connections of one app share on one event loop: connection pools per instance, a random generator, the
/// recent successful GET requests and the recent failed ones. Touched only on its loop.
final class LoopResources {
    let index: Int
    let eventLoop: any EventLoop
    var random = FastRandom()
    var recentRequests: RecentRequests
    var failedRequests = FailedRequests(capacity: LoopResources.failedRequestCapacity)
    /// Access log lines not yet handed to the writer.
    var accessLines: [UInt8] = []
    /// The retries this loop may still send.
    var retryBudget: RetryBudget
    private var pools: [ObjectIdentifier: UpstreamPool] = [:]
    private var shadowPools: [ObjectIdentifier: ConnectionPool<ShadowConnection>] = [:]
    private let settings: ProxySettings

    /// Failed requests kept per loop: enough for a report's sample between two reads a second apart.
    static let failedRequestCapacity = 128

    init(index: Int, eventLoop: any EventLoop, settings: ProxySettings, loops: Int) {
        self.index = index
        self.eventLoop = eventLoop
        self.settings = settings
        self.retryBudget = RetryBudget(
            percent: settings.retries.budgetPercent,
            minimumPerSecond: settings.retries.minimumPerSecond,
            loops: loops
        )
        self.recentRequests = RecentRequests(capacity: settings.replayBufferSize)
    }

    func pool(for instance: UpstreamInstance) -> UpstreamPool {
        let key = ObjectIdentifier(instance)
        if let pool = pools[key] { return pool }
        let pool = UpstreamPool(
            instance: instance,
            maxOpen: settings.upstreamConnections,
            maxIdle: settings.idleUpstreamConnections
        )
        pools[key] = pool
        return pool
    }

    /// The connections that carry mirrored copies to `instance`, apart from the users' requests to it.
    func shadowPool(for instance: UpstreamInstance) -> ConnectionPool<ShadowConnection> {
        let key = ObjectIdentifier(instance)
        if let pool = shadowPools[key] { return pool }
        let pool = ConnectionPool<ShadowConnection>(
            instance: instance,
            maxOpen: settings.upstreamConnections,
            maxIdle: settings.idleUpstreamConnections
        )
        shadowPools[key] = pool
        return pool
    }

    /// Hands the buffered access log lines to `log`.
    func flushAccessLines(to log: AccessLog) {
        guard !accessLines.isEmpty else { return }
        log.write(accessLines)
        accessLines.removeAll(keepingCapacity: true)
    }

    /// Forgets the pools of instances that are no longer routed, closing their idle connections.
    func retire(_ instances: Set<ObjectIdentifier>) {
        for key in instances {
            pools.removeValue(forKey: key)?.closeIdle()
            shadowPools.removeValue(forKey: key)?.closeIdle()
        }
    }

    /// Opens a new connection to `instance` on this loop.
    func connect(to instance: UpstreamInstance) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(to: instance.address)
    }
}
