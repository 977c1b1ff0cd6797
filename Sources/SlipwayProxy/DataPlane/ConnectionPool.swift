import NIOCore

/// A connection a ``ConnectionPool`` keeps between requests.
protocol PooledConnection: AnyObject {
    /// Its channel, nil once closed.
    var channel: (any Channel)? { get }
    /// Lets go of the request it carried: it is about to wait for the next one.
    func willWaitInPool()
    /// Closes it.
    func close()
}

/// The connections to one instance on one event loop: idle ones kept for reuse, and a cap on how many are open.
final class ConnectionPool<Connection: PooledConnection> {
    let instance: UpstreamInstance
    private(set) var idle: [Connection] = []
    private(set) var open = 0
    private let maxOpen: Int
    private let maxIdle: Int

    init(instance: UpstreamInstance, maxOpen: Int, maxIdle: Int) {
        self.instance = instance
        self.maxOpen = maxOpen
        self.maxIdle = maxIdle
    }

    /// An idle, open connection, most recently used first.
    func takeIdle() -> Connection? {
        while let connection = idle.popLast() {
            if connection.channel?.isActive == true { return connection }
        }
        return nil
    }

    /// Reserves room for a new connection, or says the cap is reached.
    func reserve() -> Bool {
        guard open < maxOpen else { return false }
        open += 1
        return true
    }

    /// A reserved connection could not be made.
    func reservationFailed() {
        open -= 1
    }

    /// The connection finished a response: keep it for the next request, or close it.
    func release(_ connection: Connection, reusable: Bool) {
        connection.willWaitInPool()
        if reusable, connection.channel?.isActive == true, idle.count < maxIdle {
            idle.append(connection)
        } else {
            connection.close()
        }
    }

    /// The connection leaves the pool for good (a WebSocket tunnel); it forgets the pool itself.
    func detach(_ connection: Connection) {
        open -= 1
    }

    /// The connection's channel closed.
    func connectionClosed(_ connection: Connection) {
        open -= 1
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
    }

    /// Closes the idle connections (the instance is leaving).
    func closeIdle() {
        let connections = idle
        idle.removeAll()
        for connection in connections { connection.close() }
    }
}
