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

    func record(_ event: Event) {
        do {
            try ordering.withLock {
                for recorded in try log.append([event]) { observer(recorded) }
            }
        } catch {
            // The log is the source of truth; failing to write it is loud, never silent.
            logger.critical("cannot append \(event.kind.rawValue) for \(event.app) to the event log: \(error)")
        }
    }
}
