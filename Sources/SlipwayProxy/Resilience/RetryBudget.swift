/// How many retries one event loop may send: at most a share of the requests it began over the last
/// ``windowSeconds`` seconds, plus a small floor per second, so that retries cannot multiply an outage's load.
/// Each loop keeps its own budget (no lock, no atomic); the loops share the work evenly, so the shares add up to the
/// app's.
struct RetryBudget {
    /// The window the share is taken over.
    static let windowSeconds = 10

    private let percent: Int
    /// Retries allowed per window whatever the traffic.
    private let floor: Double
    private var slots: [Slot]

    private struct Slot {
        var second: UInt64 = .max
        var requests = 0
        var retries = 0
    }

    /// A budget of `percent` of the requests plus `minimumPerSecond` retries a second, of which this loop holds
    /// `1/loops`.
    init(percent: Int, minimumPerSecond: Int, loops: Int) {
        self.percent = percent
        self.floor = Double(minimumPerSecond * Self.windowSeconds) / Double(max(loops, 1))
        self.slots = Array(repeating: Slot(), count: Self.windowSeconds)
    }

    /// Counts a request (its first attempt) begun at `now` (nanoseconds).
    mutating func requestStarted(now: UInt64) {
        let index = slot(now)
        slots[index].requests += 1
    }

    /// Whether a retry at `now` fits the budget; when it does, it is counted.
    mutating func spend(now: UInt64) -> Bool {
        let current = slot(now)
        let second = now / 1_000_000_000
        var requests = 0
        var retries = 0
        for slot in slots where slot.second != .max && slot.second + UInt64(Self.windowSeconds) > second {
            requests += slot.requests
            retries += slot.retries
        }
        guard Double(retries + 1) <= Double(requests * percent) / 100 + floor else { return false }
        slots[current].retries += 1
        return true
    }

    /// The index of `now`'s slot, emptied first when it last held an older second.
    private mutating func slot(_ now: UInt64) -> Int {
        let second = now / 1_000_000_000
        let index = Int(second % UInt64(Self.windowSeconds))
        if slots[index].second != second { slots[index] = Slot(second: second) }
        return index
    }
}
