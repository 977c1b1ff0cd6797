/// The sticky users an app has seen since its set of versions taking traffic last changed (a rollout's candidate took
/// its first traffic, or a rollout ended), so that only a new user's first request is a comparison unit.
///
/// Bounded: past ``capacity`` users nobody new is counted until the next change, rather than memory growing with the
/// user base.
struct UserSightings {
    /// The users one app remembers at most, over all its shards.
    static let capacity = 500_000

    /// The users this set remembers at most.
    let capacity: Int

    private var epoch = -1
    private var seen = Set<UInt64>()

    /// A set remembering at most `capacity` users.
    init(capacity: Int = UserSightings.capacity) {
        self.capacity = capacity
    }

    /// Whether `user` is seen for the first time in `epoch`: true the first time, false later, nil when the capacity
    /// is reached and the user was not seen before, or when `epoch` is older than one already seen.
    mutating func sight(_ user: UInt64, epoch: Int) -> Bool? {
        // A request routed by a table older than the newest one seen belongs to no epoch still counted.
        guard epoch >= self.epoch else { return nil }
        if epoch != self.epoch {
            seen = []
            self.epoch = epoch
        }
        if seen.contains(user) { return false }
        guard seen.count < capacity else { return nil }
        seen.insert(user)
        return true
    }
}
