/// One scaling of a release at a time: the count a Deployment is scaled to is read and written under its lock, so
/// that two starts, or a start and a stop, never write counts out of order.
actor ReleaseLocks {
    private var held: Set<ReleaseKey> = []
    private var waiting: [ReleaseKey: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` holding `release`'s lock.
    func with<T: Sendable>(_ release: ReleaseKey, _ body: @Sendable () async -> T) async -> T {
        if held.contains(release) {
            await withCheckedContinuation { waiting[release, default: []].append($0) }
        } else {
            held.insert(release)
        }
        let result = await body()
        if var queue = waiting[release], !queue.isEmpty {
            // The lock passes to the next in line, still held.
            let next = queue.removeFirst()
            waiting[release] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(release)
        }
        return result
    }
}
