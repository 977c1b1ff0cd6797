import Foundation
import Testing

/// One test at a time among those that load the machine (steady request load, many processes): on two cores,
/// several at once starve every other test of CPU and make timings meaningless. Such a test is tagged ``Tag/heavy``
/// and calls ``exclusive(_:)`` around its body.
///
/// A whole run (`scripts/test`) runs the heavy tests after the others, one at a time; ``exclusive(_:)`` keeps them
/// apart in a run of some tests chosen by name, where they run beside the others.
public actor HeavyLoad {
    /// The lock every heavy test shares.
    public static let shared = HeavyLoad()

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

extension Tag {
    /// A test that loads the machine: it runs under ``HeavyLoad/exclusive(_:)``, and a whole run runs it apart.
    @Tag public static var heavy: Self
}
