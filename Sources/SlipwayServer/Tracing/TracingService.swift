import Logging
import ServiceLifecycle

/// Runs the service that batches and exports spans for as long as a controller runs, and flushes it at the end.
final class TracingService: Sendable {
    private let group: ServiceGroup
    private let running: Task<Void, Never>

    /// Starts running `service`.
    init(service: any Service, logger: Logger) {
        let group = ServiceGroup(
            services: [service],
            gracefulShutdownSignals: [],
            cancellationSignals: [],
            logger: logger
        )
        self.group = group
        self.running = Task { try? await group.run() }
    }

    /// Exports what is batched and stops; gives up after `limit`.
    func flushAndStop(within limit: Duration) async {
        await group.triggerGracefulShutdown()
        let running = self.running
        let timeout = Task {
            try? await Task.sleep(for: limit)
            running.cancel()
        }
        await running.value
        timeout.cancel()
    }

    /// Stops at once (after ``flushAndStop(within:)``, or when the controller failed to start).
    func stopWithoutFlush() {
        running.cancel()
    }
}
