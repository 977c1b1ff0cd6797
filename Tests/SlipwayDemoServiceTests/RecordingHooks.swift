import SlipwayDemoService
import Synchronization

/// Hooks that record output lines and exit requests instead of touching the test process.
final class RecordingHooks: Sendable {
    private let output = Mutex<[String]>([])
    private let errors = Mutex<[String]>([])
    private let exits = Mutex<[Int32]>([])

    var hooks: DemoHooks {
        DemoHooks(
            standardOutput: { line in self.output.withLock { $0.append(line) } },
            standardError: { line in self.errors.withLock { $0.append(line) } },
            terminate: { status in self.exits.withLock { $0.append(status) } }
        )
    }

    var outputLines: [String] { output.withLock { $0 } }
    var errorLines: [String] { errors.withLock { $0 } }
    var exitStatuses: [Int32] { exits.withLock { $0 } }

    /// Waits until an exit was requested or `timeout` passed; returns the statuses requested so far.
    func waitForExit(timeout: Duration) async throws -> [Int32] {
        let deadline = ContinuousClock.now + timeout
        while exitStatuses.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return exitStatuses
    }
}
