import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// Appends events to the log and tells an observer (the `up` command's output, later the API's stream).
struct EventRecorder: Sendable {
    let log: EventLog
    let logger: Logger
    let observer: @Sendable (RecordedEvent) -> Void

    func record(_ event: Event) {
        do {
            for recorded in try log.append([event]) { observer(recorded) }
        } catch {
            // The log is the source of truth; failing to write it is loud, never silent.
            logger.critical("cannot append \(event.kind.rawValue) for \(event.app) to the event log: \(error)")
        }
    }
}
