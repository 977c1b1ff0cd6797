import Foundation
import Synchronization

/// The dashboard's sign-in sessions, in memory: a restart signs everyone out.
///
/// A session ends 12 hours after its last use, when deleted (sign-out), or when 1,000 newer ones push it
/// out (the least recently used goes first). Safe to use from any task.
public final class SessionStore: Sendable {
    /// One signed-in browser.
    public struct Session: Sendable, Equatable {
        /// The value of the `slipway_session` cookie: 256 random bits, base64url.
        public let id: String
        /// What state-changing requests must send in `X-CSRF-Token` (the `slipway_csrf` cookie).
        public let csrfToken: String
        /// When the session was last used.
        public fileprivate(set) var lastUsed: ContinuousClock.Instant
    }

    /// How long an unused session lives.
    public static let defaultIdleTimeout = Duration.seconds(12 * 60 * 60)
    /// How many sessions are kept at most.
    public static let defaultCapacity = 1_000

    private let sessions = Mutex<[String: Session]>([:])
    private let idleTimeout: Duration
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant

    /// Creates an empty store.
    /// - Parameter now: the clock; tests pass their own to step over hours.
    public init(
        idleTimeout: Duration = SessionStore.defaultIdleTimeout,
        capacity: Int = SessionStore.defaultCapacity,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        precondition(capacity > 0, "a session store must hold at least one session")
        self.idleTimeout = idleTimeout
        self.capacity = capacity
        self.now = now
    }

    /// Starts a session with a new random id and CSRF token, dropping expired sessions and, when full, the
    /// least recently used one.
    public func create() -> Session {
        let time = now()
        let session = Session(id: Self.randomToken(), csrfToken: Self.randomToken(), lastUsed: time)
        sessions.withLock { sessions in
            sessions = sessions.filter { !isExpired($0.value, at: time) }
            while sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastUsed < $1.lastUsed }) {
                sessions[oldest.id] = nil
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with `id`, left as it is; nil when there is none or it has expired.
    public func session(id: String) -> Session? {
        let time = now()
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard !isExpired(session, at: time) else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Marks the live session with `id` as used now and returns it; nil when there is none or it has expired.
    @discardableResult
    public func touch(id: String) -> Session? {
        let time = now()
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard !isExpired(session, at: time) else {
                sessions[id] = nil
                return nil
            }
            session.lastUsed = time
            sessions[id] = session
            return session
        }
    }

    /// Ends the session with `id`, if there is one.
    public func delete(id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// How many sessions are held, expired ones not yet dropped included.
    public var count: Int {
        sessions.withLock { $0.count }
    }

    private func isExpired(_ session: Session, at time: ContinuousClock.Instant) -> Bool {
        session.lastUsed.duration(to: time) >= idleTimeout
    }

    /// 256 bits from the system's secure generator, base64url without padding (cookie-safe).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
