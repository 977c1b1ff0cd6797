import Foundation
import Logging
import NIOConcurrencyHelpers
import SlipwayCore
import SlipwayStore

/// Appends events to the log and tells an observer (the live status projection, the `up` command's output, the
/// API's stream, the notifier).
///
/// Appending and observing happen under one lock, so the observer sees events in log order even when several tasks
/// record at once: a projection folded live equals the fold of the log.
struct EventRecorder: Sendable {
    let log: EventLog
    let logger: Logger
    let observer: @Sendable (RecordedEvent) -> Void
    private let ordering = NIOLock()

    init(log: EventLog, logger: Logger, observer: @escaping @Sendable (RecordedEvent) -> Void) {
        self.log = log
        self.logger = logger
        self.observer = observer
    }

    /// Appends `event`; returns it as recorded, or nil when the log could not be written (which is logged).
    @discardableResult
    func record(_ event: Event) -> RecordedEvent? {
        do {
            return try ordering.withLock {
                let recorded = try log.append([event])
                for entry in recorded { observer(entry) }
                return recorded.last
            }
        } catch {
            // The log is the source of truth; failing to write it is loud, never silent.
            logger.critical("cannot append \(event.kind.rawValue) for \(event.app) to the event log: \(error)")
            return nil
        }
    }
}
