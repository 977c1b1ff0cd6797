import Synchronization

/// Slows down guessing the token through the sign-in form.
///
/// A client may get the token wrong `freeAttempts` times in a row; after that, each new attempt must wait
/// for a pause that doubles from one second up to `longestWait` after its previous one, and attempts made
/// sooner are refused without being checked. A right token, or `forgetAfter` without a wrong one,
/// clears the client's record. Clients are told apart by address when the request context knows it; else
/// they share one record.
public final class LoginThrottle: Sendable {
    /// Wrong tokens in a row allowed before pauses begin.
    public static let freeAttempts = 3
    /// The pause after the first wrong token past the free ones.
    public static let firstWait = Duration.seconds(1)
    /// The longest pause.
    public static let longestWait = Duration.seconds(30)
    /// How long a client's record is kept after its last wrong token.
    public static let forgetAfter = Duration.seconds(15 * 60)
    /// The most clients remembered; past it, the oldest records are forgotten.
    static let capacity = 10_000

    private struct Record {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
    }

    private let records = Mutex<[String: Record]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    /// Creates a throttle with no records.
    /// - Parameter now: the clock; tests pass their own.
    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.now = now
    }

    /// Whether an attempt may be checked now.
    public enum Admission: Sendable, Equatable {
        /// Check the token.
        case admitted
        /// Refuse unchecked: the client must wait this long.
        case wait(Duration)
    }

    /// Admits an attempt from `client`, or tells how long it must still wait. An admitted attempt counts as
    /// wrong until `recordSuccess(for:)` says otherwise, so attempts made in parallel cannot slip past the
    /// pauses.
    public func admit(_ client: String) -> Admission {
        let time = now()
        return records.withLock { records in
            if var record = records[client], record.lastFailure.duration(to: time) < Self.forgetAfter {
                if record.failures >= Self.freeAttempts {
                    let remaining = time.duration(to: record.lastFailure + Self.pause(after: record.failures))
                    if remaining > .zero { return .wait(remaining) }
                }
                record.failures += 1
                record.lastFailure = time
                records[client] = record
                return .admitted
            }
            if records.count >= Self.capacity {
                records = records.filter { $0.value.lastFailure.duration(to: time) < Self.forgetAfter }
                while records.count >= Self.capacity,
                    let oldest = records.min(by: { $0.value.lastFailure < $1.value.lastFailure })
                {
                    records[oldest.key] = nil
                }
            }
            records[client] = Record(failures: 1, lastFailure: time)
            return .admitted
        }
    }

    /// Notes a right token from `client`: its record is cleared.
    public func recordSuccess(for client: String) {
        _ = records.withLock { $0.removeValue(forKey: client) }
    }

    /// The pause required after `failures` wrong tokens in a row (at least `freeAttempts`).
    static func pause(after failures: Int) -> Duration {
        let doublings = min(failures - freeAttempts, 10)
        return min(firstWait * (1 << doublings), longestWait)
    }
}
