/// The request targets (path and query, as received) of the latest successful GET requests on one event loop,
/// replayed to warm up new instances. A fixed-size ring: recording overwrites the oldest entry and allocates
/// nothing, since the target string is shared with the request head. Touched only on its loop.
struct RecentRequests {
    /// One recorded request.
    struct Entry: Sendable, Equatable {
        /// When the response head arrived, in uptime nanoseconds: orders entries across loops.
        var time: UInt64
        var target: String
    }

    /// Longer targets are not kept: they are rarely worth replaying and would make the buffer's size unbounded.
    static let maximumTargetBytes = 2048

    let capacity: Int
    private var entries: [Entry] = []
    /// Where the next entry goes once the ring is full.
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        entries.reserveCapacity(self.capacity)
    }

    /// Keeps `target` as the newest entry, unless recording is off or the target is too long.
    mutating func record(_ target: String, at time: UInt64) {
        guard capacity > 0, target.utf8.count <= Self.maximumTargetBytes else { return }
        let entry = Entry(time: time, target: target)
        if entries.count < capacity {
            entries.append(entry)
        } else {
            entries[next] = entry
        }
        next = next + 1 == capacity ? 0 : next + 1
    }

    /// Up to `limit` entries, newest first.
    func newest(_ limit: Int) -> [Entry] {
        let count = min(max(0, limit), entries.count)
        var result: [Entry] = []
        result.reserveCapacity(count)
        var index = next
        for _ in 0..<count {
            index = index == 0 ? entries.count - 1 : index - 1
            result.append(entries[index])
        }
        return result
    }
}
