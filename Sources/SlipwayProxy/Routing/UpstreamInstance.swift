import NIOCore
import Synchronization

/// One instance the proxy can send requests to.
///
/// Identity is stable across route-table swaps, so its in-flight count and weight survive them. Thread-safe: both
/// counters are atomics stored inline, so reading them costs no extra pointer or reference count, and they use relaxed
/// ordering because they only steer load balancing and order no other memory.
public final class UpstreamInstance: Sendable {
    /// The largest weight: a full share of its version's traffic.
    public static let fullWeight = 1000

    /// The instance's identifier, e.g. `shop-3`.
    public let id: String
    /// The version the instance runs, e.g. `1.4.0`.
    public let version: String
    /// The IP literal the instance listens on, e.g. `127.0.0.1`.
    public let host: String
    /// The port the instance listens on.
    public let port: Int
    /// The socket address, resolved once here so that connecting never resolves.
    public let address: SocketAddress

    private let weightStorage: Atomic<Int>
    private let inFlightStorage: Atomic<Int>
    private let ejectedStorage: Atomic<Bool>
    private let consecutiveFailuresStorage: Atomic<Int>
    /// Attempts answered since the outlier detector last looked (high 32 bits), and failures among them (low 32).
    private let intervalCountsStorage: Atomic<UInt64>

    /// Creates an instance with a full weight and nothing in flight.
    ///
    /// - Throws: `SocketAddressError` when `host` is not an IPv4 or IPv6 literal, or the port is out of range.
    public init(id: String, version: String, host: String, port: Int) throws {
        self.id = id
        self.version = version
        self.host = host
        self.port = port
        self.address = try SocketAddress(ipAddress: host, port: port)
        self.weightStorage = Atomic(Self.fullWeight)
        self.inFlightStorage = Atomic(0)
        self.ejectedStorage = Atomic(false)
        self.consecutiveFailuresStorage = Atomic(0)
        self.intervalCountsStorage = Atomic(0)
    }

    /// Relative weight within its version, 0...1000: 1000 is a full share, lower during slow start, and 0 takes no new
    /// requests.
    public var weight: Int {
        weightStorage.load(ordering: .relaxed)
    }

    /// Sets the weight, clamped to 0...1000.
    public func setWeight(_ weight: Int) {
        weightStorage.store(min(max(weight, 0), Self.fullWeight), ordering: .relaxed)
    }

    /// Requests in flight to this instance.
    public var inFlight: Int {
        inFlightStorage.load(ordering: .relaxed)
    }

    /// Counts a request sent to this instance; pair it with exactly one `requestFinished()`.
    public func requestStarted() {
        inFlightStorage.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts the end of a request counted by `requestStarted()`, whatever its outcome.
    public func requestFinished() {
        inFlightStorage.wrappingSubtract(1, ordering: .relaxed)
    }

    // MARK: Outlier detection

    /// Whether outlier detection took the instance out of rotation: it takes no new request until it is back.
    public var isEjected: Bool {
        ejectedStorage.load(ordering: .relaxed)
    }

    func setEjected(_ ejected: Bool) {
        ejectedStorage.store(ejected, ordering: .relaxed)
        if !ejected { consecutiveFailuresStorage.store(0, ordering: .relaxed) }
    }

    /// Failed attempts in a row since the last success.
    public var consecutiveFailures: Int {
        consecutiveFailuresStorage.load(ordering: .relaxed)
    }

    /// Counts an attempt the instance answered well (below 500).
    func attemptSucceeded() {
        intervalCountsStorage.wrappingAdd(1 << 32, ordering: .relaxed)
        // Read first, so that a healthy instance's line is only ever read, not written, by every loop.
        if consecutiveFailuresStorage.load(ordering: .relaxed) != 0 {
            consecutiveFailuresStorage.store(0, ordering: .relaxed)
        }
    }

    /// Counts a failed attempt (5xx, no connection, closed before answering, timed out); returns the failures in a
    /// row now.
    func attemptFailed() -> Int {
        intervalCountsStorage.wrappingAdd(1 << 32 | 1, ordering: .relaxed)
        return consecutiveFailuresStorage.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// The attempts and failures counted since the last call.
    func takeIntervalCounts() -> (requests: Int, failures: Int) {
        let counts = intervalCountsStorage.exchange(0, ordering: .relaxed)
        return (Int(counts >> 32), Int(counts & 0xFFFF_FFFF))
    }
}
