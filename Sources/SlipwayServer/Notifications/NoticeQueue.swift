import Synchronization

/// The bounded first-in, first-out queue of one channel: any thread offers without waiting, one worker takes.
final class NoticeQueue: Sendable {
    /// What became of an offered notice.
    enum Offer: Equatable {
        /// It waits its turn (or was handed straight to the waiting worker).
        case enqueued
        /// The queue already holds `limit` notices: it was dropped.
        case full
        /// The queue was closed: it was ignored.
        case closed
    }

    private struct State {
        var items: [Notice] = []
        var waiter: CheckedContinuation<Notice?, Never>?
        var closed = false
    }

    /// The most notices waiting at once (the one being delivered is not counted).
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(limit, 0)
    }

    /// Adds `notice` at the end, unless the queue is full or closed. Never waits.
    func offer(_ notice: Notice) -> Offer {
        let (offer, waiter) = state.withLock { state -> (Offer, CheckedContinuation<Notice?, Never>?) in
            if state.closed {
                return (.closed, nil)
            }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.enqueued, waiter)
            }
            guard state.items.count < limit else { return (.full, nil) }
            state.items.append(notice)
            return (.enqueued, nil)
        }
        waiter?.resume(returning: notice)
        return offer
    }

    /// The first notice, waiting for one if needed; nil once the queue is closed and empty, or when the calling
    /// task is cancelled while the queue is empty.
    func next() async -> Notice? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Notice?, Never>) in
                let ready = state.withLock { state -> Notice?? in
                    if !state.items.isEmpty {
                        return .some(state.items.removeFirst())
                    }
                    if state.closed || Task.isCancelled {
                        return .some(nil)
                    }
                    state.waiter = continuation
                    return .none
                }
                if let ready {
                    continuation.resume(returning: ready)
                }
            }
        } onCancel: {
            wakeWaiter()
        }
    }

    /// Refuses further offers; the worker still takes what is queued, then gets nil.
    func close() {
        state.withLock { $0.closed = true }
        wakeWaiter()
    }

    /// How many notices wait.
    var count: Int {
        state.withLock { $0.items.count }
    }

    private func wakeWaiter() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
