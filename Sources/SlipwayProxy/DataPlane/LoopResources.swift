import NIOCore
import NIOPosix

/// What the connections of one app share on one event loop: connection pools per instance, a random generator and
/// the recent successful GET requests. Touched only on its loop.
final class LoopResources {
    let index: Int
    let eventLoop: any EventLoop
    var random = FastRandom()
    var recentRequests: RecentRequests
    private var pools: [ObjectIdentifier: UpstreamPool] = [:]
    private let settings: ProxySettings

    init(index: Int, eventLoop: any EventLoop, settings: ProxySettings) {
        self.index = index
        self.eventLoop = eventLoop
        self.settings = settings
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

    /// Forgets the pools of instances that are no longer routed, closing their idle connections.
    func retire(_ instances: Set<ObjectIdentifier>) {
        for key in instances {
            pools.removeValue(forKey: key)?.closeIdle()
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
