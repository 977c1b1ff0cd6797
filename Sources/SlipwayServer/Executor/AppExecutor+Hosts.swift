import SlipwayCore
import SlipwayEngine

extension AppExecutor {
    /// The instances this controller knows of: started or adopted, and not yet gone.
    var knownInstances: Set<InstanceID> { Set(runtimes.keys) }

    /// `host` cannot be reached: its instances are no longer probed (a probe there says nothing about them), and the
    /// machine takes them out of the routes and holds a rollout under way.
    func hostUnreachable(_ host: String) {
        let instances = Set(runtimes.keys.filter { context.placeOf($0) == host })
        for id in instances {
            runtimes[id]?.prober?.cancel()
            runtimes[id]?.prober = nil
        }
        feed(.hostUnreachable(host, instances: instances))
    }

    /// `host` can be reached again: its instances are probed afresh, as adopted ones are (one passing probe puts
    /// one back in the routes), and a held rollout goes on.
    func hostReachable(_ host: String) {
        feed(.hostReachable(host))
        var policy = healthPolicy
        policy.healthyThreshold = 1
        for id in runtimes.keys.sorted() where context.placeOf(id) == host && runtimes[id]?.prober == nil {
            guard !isStopping(id), let handle = runtimes[id]?.handle else { continue }
            runtimes[id]?.health = HealthMachine(policy: policy, startedAt: timeline.now)
            runtimes[id]?.prober = probeLoop(for: handle)
        }
    }
}
