import Crypto
import NIOConcurrencyHelpers
import NIOCore

/// Carries out an app's ``WaitingRoom`` for its listener: shared by the connections of every event loop, it lets
/// requests in or has them wait, wakes a held request on its own loop when its turn comes, refuses the ones that
/// waited too long, signs visitors' tickets, and keeps the limit in step with the instances in rotation.
///
/// The lock is taken twice per request while the room is on (arrival and end); a listener without a room has none.
final class WaitingRoomGuard: Sendable {
    let settings: WaitingRoomSettings
    private let state: NIOLockedValueBox<State>
    private let loop: any EventLoop
    private let task: NIOLockedValueBox<RepeatedTask?>
    private let key = SymmetricKey(size: .bits256)
    /// The instances in rotation now, for a per-instance limit.
    private let instancesInRotation: @Sendable () -> Int

    private struct State: Sendable {
        var room: WaitingRoom<UInt64>
        /// Held requests by token, each with the connection to wake on its loop.
        var held: [UInt64: NIOLoopBound<ClientConnection>] = [:]
        var nextToken: UInt64 = 1
    }

    /// The cookie that holds a visitor's place.
    static let cookieName = "slipway_wait"
    /// How often the room looks for requests that waited too long.
    static let tick = TimeAmount.milliseconds(100)

    init(settings: WaitingRoomSettings, loop: any EventLoop, instancesInRotation: @escaping @Sendable () -> Int) {
        self.settings = settings
        self.loop = loop
        self.instancesInRotation = instancesInRotation
        self.state = NIOLockedValueBox(
            State(room: WaitingRoom(settings: settings.roomSettings, limit: settings.limit(instances: 0)))
        )
        self.task = NIOLockedValueBox(nil)
    }

    func start() {
        let repeated = loop.scheduleRepeatedTask(initialDelay: Self.tick, delay: Self.tick) { [self] _ in
            ticked()
        }
        task.withLockedValue { $0 = repeated }
    }

    func stop() {
        task.withLockedValue { task in
            task?.cancel()
            task = nil
        }
    }

    // MARK: Requests

    /// A held request arrives from `connection` (on its loop): admitted now, or waiting with a token, or refused.
    func arrive(_ connection: ClientConnection, on loop: any EventLoop) -> (WaitingRoom<UInt64>.Arrival, UInt64) {
        let bound = NIOLoopBound(connection, eventLoop: loop)
        let now = NIODeadline.now().uptimeNanoseconds
        return state.withLockedValue { state in
            let token = state.nextToken
            state.nextToken += 1
            let arrival = state.room.arrive(token, now: now)
            if case .waiting = arrival { state.held[token] = bound }
            return (arrival, token)
        }
    }

    /// A visitor asks with the cookie it sent, if any (a forged or stale one counts as none).
    func visit(cookie: String?) -> WaitingRoom<UInt64>.Arrival {
        let now = NIODeadline.now().uptimeNanoseconds
        let ticket = cookie.flatMap(verifiedTicket)
        return state.withLockedValue { $0.room.visit(ticket: ticket, now: now) }
    }

    /// A request let in has ended.
    func finished() {
        let now = NIODeadline.now().uptimeNanoseconds
        let actions = state.withLockedValue { state in
            let actions = state.room.finished(now: now)
            return take(actions, from: &state)
        }
        carryOut(actions)
    }

    /// The client of a held request left while it waited.
    func cancel(_ token: UInt64) {
        state.withLockedValue { state in
            state.room.cancel(token)
            state.held.removeValue(forKey: token)
        }
    }

    /// Waiting, in flight, the limit and what happened so far.
    var current: WaitingRoomState {
        state.withLockedValue { state in
            let counters = state.room.counters
            return WaitingRoomState(
                waiting: state.room.waiting,
                inFlight: state.room.inFlight,
                limit: state.room.limit,
                admittedAfterWaiting: counters.admittedAfterWaiting,
                refusedFull: counters.refusedFull,
                timedOut: counters.timedOut,
                left: counters.left,
                waitedSeconds: Double(counters.waitedNanoseconds) / 1e9,
                longestWaitSeconds: Double(counters.longestWaitNanoseconds) / 1e9
            )
        }
    }

    // MARK: Tickets

    /// `ticket.mac`: the ticket and its HMAC-SHA256 under this listener's key, in hexadecimal.
    func cookieValue(ticket: UInt64) -> String {
        let text = String(ticket)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)
        return text + "." + mac.map { Self.hexDigits[Int($0 >> 4)] + Self.hexDigits[Int($0 & 15)] }.joined()
    }

    private func verifiedTicket(_ value: String) -> UInt64? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let ticket = UInt64(parts[0]), let mac = Self.bytes(hex: parts[1]), mac.count == 32,
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(parts[0].utf8), using: key)
        else { return nil }
        return ticket
    }

    private static let hexDigits = (0..<16).map { String($0, radix: 16) }

    private static func bytes(hex: Substring) -> [UInt8]? {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    // MARK: Carrying out

    private func ticked() {
        let now = NIODeadline.now().uptimeNanoseconds
        let limit = settings.limit(instances: instancesInRotation())
        let actions = state.withLockedValue { state in
            var actions = state.room.tick(now: now)
            if limit != state.room.limit { actions += state.room.setLimit(limit, now: now) }
            return take(actions, from: &state)
        }
        carryOut(actions)
    }

    private func take(
        _ actions: [WaitingRoom<UInt64>.Action],
        from state: inout State
    ) -> [(WaitingRoom<UInt64>.Action, NIOLoopBound<ClientConnection>)] {
        actions.compactMap { action in
            let token: UInt64
            switch action {
            case .admit(let admitted): token = admitted
            case .timedOut(let late): token = late
            }
            return state.held.removeValue(forKey: token).map { (action, $0) }
        }
    }

    private func carryOut(_ actions: [(WaitingRoom<UInt64>.Action, NIOLoopBound<ClientConnection>)]) {
        for (action, connection) in actions {
            connection.eventLoop.execute {
                switch action {
                case .admit(let token): connection.value.waitingRoomAdmitted(token)
                case .timedOut(let token): connection.value.waitingRoomTimedOut(token)
                }
            }
        }
    }
}
