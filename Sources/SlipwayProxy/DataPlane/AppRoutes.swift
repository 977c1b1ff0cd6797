import Atomics

/// A route table with the traffic recorders of its versions and instances, swapped as one value so a request
/// finds everything it records into without a lookup that could race a swap.
final class AppRoutes: Sendable, AtomicReference {
    let table: RouteTable
    /// Parallel to `table.versions`.
    let versionTraffic: [TrafficRecorder]
    let instanceTraffic: [ObjectIdentifier: TrafficRecorder]
    let unrouted: TrafficRecorder
    /// With a mirror: where its copies' responses count, and, parallel to `table.versions`, where the users'
    /// responses to the copied requests count.
    let shadowTraffic: TrafficRecorder?
    let originalTraffic: [TrafficRecorder]
    /// Changes whenever the set of versions taking traffic does (a candidate's first weight or rule, the end of a
    /// rollout): sticky users are counted as comparison units anew from then on.
    let unitEpoch: Int

    init(table: RouteTable, book: TrafficBook) {
        self.table = table
        self.unitEpoch = book.unitEpoch(
            for: Set(table.versions.filter { $0.weight > 0 }.map(\.version) + table.rules.map(\.version))
        )
        self.versionTraffic = table.versions.map { book.version($0.version) }
        var instances: [ObjectIdentifier: TrafficRecorder] = [:]
        for version in table.versions {
            for instance in version.instances {
                instances[ObjectIdentifier(instance)] = book.instance(instance.id, version: instance.version)
            }
        }
        self.instanceTraffic = instances
        self.unrouted = book.unrouted
        if let mirror = table.mirror {
            self.shadowTraffic = book.shadow(mirror.version)
            self.originalTraffic = table.versions.map { book.original($0.version) }
        } else {
            self.shadowTraffic = nil
            self.originalTraffic = []
        }
    }

    func traffic(of instance: UpstreamInstance, book: TrafficBook) -> TrafficRecorder {
        instanceTraffic[ObjectIdentifier(instance)] ?? book.instance(instance.id, version: instance.version)
    }
}
