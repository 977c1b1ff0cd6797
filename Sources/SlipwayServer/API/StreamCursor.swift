/// Which events an event stream has sent, so that none is sent twice and none is skipped.
///
/// Every event up to `boundary` has been sent (or predates the stream); `sent` holds the ids above it that went
/// out live. Live events may arrive slightly out of id order (recorders append concurrently), so the cursor keeps
/// the ids rather than only the highest. Reading the log after `boundary` and ``settle(through:)`` folds `sent`
/// back into the boundary.
struct StreamCursor: Sendable, Equatable {
    /// Every event with an id up to this one is accounted for.
    private(set) var boundary: Int64
    private(set) var sent: Set<Int64> = []

    /// A cursor for a stream that starts after `boundary`.
    init(after boundary: Int64) {
        self.boundary = boundary
    }

    /// Whether the event `id` is still to be sent; if so, it counts as sent from now on.
    mutating func admit(_ id: Int64) -> Bool {
        guard id > boundary, !sent.contains(id) else { return false }
        sent.insert(id)
        return true
    }

    /// The log has been read (and what it held sent) through `newest`.
    mutating func settle(through newest: Int64) {
        boundary = max(boundary, newest)
        sent = sent.filter { $0 > boundary }
    }
}
