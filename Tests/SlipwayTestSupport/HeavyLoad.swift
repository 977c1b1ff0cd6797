import Foundation

/// One test at a time among those that load the machine (steady request load, many processes): on two cores,
/// several at once starve every other test of CPU and make timings meaningless. Tests call
/// ``exclusive(_:)`` around their body; the others run beside them as usual.
///
/// In a whole run, the first heavy test also waits ``settling`` after the run began: every quick test starts at once
/// at the beginning of a run, many with timeouts of a few seconds, and a heavy test among them would starve them.
public actor HeavyLoad {
    /// The lock every heavy test shares.
    public static let shared = HeavyLoad()
    /// How long after the run began the first heavy test waits: `SLIPWAY_HEAVY_TESTS_WAIT` seconds (`scripts/test`
    /// sets it), none without it.
    public static let settling: Duration = .seconds(
        Int(ProcessInfo.processInfo.environment["SLIPWAY_HEAVY_TESTS_WAIT"] ?? "") ?? 0
    )

    private let began = ContinuousClock.now
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once no other heavy test runs, in the order they asked.
    public static func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let result = try await body()
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }

    private func acquire() async {
        guard busy else {
            busy = true
            // Held while it waits: the heavy tests that come meanwhile queue behind it.
            try? await Task.sleep(until: began + Self.settling)
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
