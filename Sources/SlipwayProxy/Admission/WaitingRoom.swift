/// Lets an app's requests in while fewer than its limit are in flight, and has the rest wait their turn: events
/// in, actions out, the clock passed in. ``WaitingRoomGuard`` feeds it and carries out what it decides.
///
/// Everyone who cannot be let in at once takes a ticket, and tickets are let in in the order they were given, as
/// requests in flight end. A ticket belongs either to a request held on its connection (an API client: it is let in
/// or refused by the room) or to a *visitor* (a browser shown the waiting page, which asks again by itself: its place
/// is kept while it keeps asking, and when its turn comes a slot is kept for it until it asks again). A request that
/// finds the queue full is refused at once; a held request that waited `queueTimeout` is refused then.
struct WaitingRoom<Token: Hashable & Sendable>: Sendable {
    /// How a request fares when it arrives.
    enum Arrival: Equatable, Sendable {
        /// It may go on now.
        case admitted
        /// It waits with this ticket, at this place in line (1 is next).
        case waiting(ticket: UInt64, place: Int)
        /// The line is full: refuse it now.
        case full
    }

    /// What the guard must do for a held request.
    enum Action: Equatable, Sendable {
        /// Its turn came: it goes on.
        case admit(Token)
        /// It waited too long: refuse it.
        case timedOut(Token)
    }

    /// Limits and times, in nanoseconds.
    struct Settings: Equatable, Sendable {
        /// The most tickets waiting at once.
        var queueSize: Int
        /// How long a held request may wait.
        var queueTimeout: UInt64
        /// A visitor that has not asked again for this long has left: its ticket is dropped.
        var visitorTimeout: UInt64
        /// How long a slot is kept for a visitor whose turn came.
        var reservationTimeout: UInt64
    }

    fileprivate enum Waiter: Equatable, Sendable {
        case held(Token, deadline: UInt64)
        case visitor(lastSeen: UInt64)
    }

    private struct Entry: Equatable, Sendable {
        var ticket: UInt64
        var waiter: Waiter
        var since: UInt64
    }

    /// What happened so far, for the metrics.
    struct Counters: Equatable, Sendable {
        /// Let in after waiting.
        var admittedAfterWaiting = 0
        /// Refused because the line was full.
        var refusedFull = 0
        /// Refused after waiting `queueTimeout`.
        var timedOut = 0
        /// Visitors that stopped asking before their turn, or did not come back for their slot.
        var left = 0
        /// Total and longest wait of those let in, in nanoseconds.
        var waitedNanoseconds: UInt64 = 0
        var longestWaitNanoseconds: UInt64 = 0
    }

    let settings: Settings
    private(set) var limit: Int
    private(set) var inFlight = 0
    private(set) var counters = Counters()
    /// Waiting, in ticket order, from `head` on (entries before it are taken; compacted now and then).
    private var queue: [Entry] = []
    private var head = 0
    /// Visitors whose turn came, with the moment their kept slot is given up.
    private var reserved: [UInt64: UInt64] = [:]
    private var nextTicket: UInt64 = 1

    init(settings: Settings, limit: Int) {
        self.settings = settings
        self.limit = max(limit, 1)
    }

    /// Tickets waiting now.
    var waiting: Int { queue.count - head }

    /// A held request arrives.
    mutating func arrive(_ token: Token, now: UInt64) -> Arrival {
        if waiting == 0, inFlight < limit {
            inFlight += 1
            return .admitted
        }
        return enqueue(.held(token, deadline: now + settings.queueTimeout), now: now)
    }

    /// A visitor asks, with the ticket it holds (from its cookie) if any.
    mutating func visit(ticket: UInt64?, now: UInt64) -> Arrival {
        if let ticket {
            if reserved.removeValue(forKey: ticket) != nil {
                // Its slot was kept and is counted in flight already.
                return .admitted
            }
            if let index = index(of: ticket) {
                queue[index].waiter = .visitor(lastSeen: now)
                return .waiting(ticket: ticket, place: index - head + 1)
            }
        }
        if waiting == 0, inFlight < limit {
            inFlight += 1
            return .admitted
        }
        return enqueue(.visitor(lastSeen: now), now: now)
    }

    /// A request let in has ended; the next in line may go on.
    mutating func finished(now: UInt64) -> [Action] {
        precondition(inFlight > 0, "a request ended that the waiting room did not let in")
        inFlight -= 1
        return fill(now: now)
    }

    /// A held request's client left while it waited.
    mutating func cancel(_ token: Token) {
        guard let index = queue.indices.dropFirst(head).first(where: { queue[$0].waiter.token == token }) else {
            return
        }
        queue.remove(at: index)
    }

    /// The limit changed (instances came or went).
    mutating func setLimit(_ limit: Int, now: UInt64) -> [Action] {
        self.limit = max(limit, 1)
        return fill(now: now)
    }

    /// Refuses held requests that waited too long, forgets visitors that stopped asking and slots nobody came back
    /// for, then lets in whoever fits.
    mutating func tick(now: UInt64) -> [Action] {
        var actions: [Action] = []
        var kept: [Entry] = []
        kept.reserveCapacity(waiting)
        for entry in queue[head...] {
            switch entry.waiter {
            case .held(let token, let deadline) where deadline <= now:
                counters.timedOut += 1
                actions.append(.timedOut(token))
            case .visitor(let lastSeen) where lastSeen + settings.visitorTimeout <= now:
                counters.left += 1
            default:
                kept.append(entry)
            }
        }
        queue = kept
        head = 0
        for (ticket, until) in reserved where until <= now {
            reserved.removeValue(forKey: ticket)
            counters.left += 1
            inFlight -= 1
        }
        return actions + fill(now: now)
    }

    // MARK: The line

    private mutating func enqueue(_ waiter: Waiter, now: UInt64) -> Arrival {
        guard waiting < settings.queueSize else {
            counters.refusedFull += 1
            return .full
        }
        let ticket = nextTicket
        nextTicket += 1
        queue.append(Entry(ticket: ticket, waiter: waiter, since: now))
        return .waiting(ticket: ticket, place: waiting)
    }

    /// Lets in, in ticket order, as many as the limit allows.
    private mutating func fill(now: UInt64) -> [Action] {
        var actions: [Action] = []
        while inFlight < limit, head < queue.count {
            let entry = queue[head]
            head += 1
            inFlight += 1
            let waited = now - min(entry.since, now)
            counters.admittedAfterWaiting += 1
            counters.waitedNanoseconds += waited
            counters.longestWaitNanoseconds = max(counters.longestWaitNanoseconds, waited)
            switch entry.waiter {
            case .held(let token, _): actions.append(.admit(token))
            case .visitor: reserved[entry.ticket] = now + settings.reservationTimeout
            }
        }
        if head > 64, head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return actions
    }

    /// The queue index of `ticket`, when it waits.
    private func index(of ticket: UInt64) -> Int? {
        // Tickets are in increasing order from `head` on.
        var low = head
        var high = queue.count
        while low < high {
            let middle = (low + high) / 2
            if queue[middle].ticket < ticket { low = middle + 1 } else { high = middle }
        }
        return low < queue.count && queue[low].ticket == ticket ? low : nil
    }
}

extension WaitingRoom.Waiter {
    fileprivate var token: Token? {
        if case .held(let token, _) = self { return token }
        return nil
    }
}
