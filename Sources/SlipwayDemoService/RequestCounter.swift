import Synchronization

/// Numbers the requests an instance counts, safely from concurrent handlers.
final class RequestCounter: Sendable {
    private let value = Mutex<Int>(0)

    /// Counts one more request and returns its number, starting at 1.
    func next() -> Int {
        value.withLock { count in
            count += 1
            return count
        }
    }

    /// How many requests have been counted so far.
    var count: Int {
        value.withLock { $0 }
    }
}
