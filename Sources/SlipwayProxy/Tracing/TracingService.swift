import Logging
import ServiceLifecycle

/// Runs the service that batches and exports spans (``TracingExport/makeBackend()``) for as long as its process runs,
/// and flushes it at the end: the controller's, the data plane's, a test's.
public final class TracingService: Sendable {
    private let group: ServiceGroup
    private let running: Task<Void, Never>

    /// Starts running `service`.
    public init(service: any Service, logger: Logger) {
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
    public func flushAndStop(within limit: Duration) async {
        await group.triggerGracefulShutdown()
        let running = self.running
        let timeout = Task {
            try? await Task.sleep(for: limit)
            running.cancel()
        }
        await running.value
        timeout.cancel()
    }

    /// Stops at once (after ``flushAndStop(within:)``, or when its process failed to start).
    public func stopWithoutFlush() {
        running.cancel()
    }
}
