import Foundation
import NIOConcurrencyHelpers
import SlipwayStore

/// Counts every app's requests per clock hour and writes the counts to the store: at most once a minute, when the
/// hour changes, and when the controller stops. `slipway windows` suggests deploy times from them.
final class TrafficHours: Sendable {
    private struct Pending {
        var hour: Int
        var requests: Int
    }

    private let log: EventLog
    private let flushInterval: TimeInterval
    private let state = NIOLockedValueBox((pending: [String: Pending](), flushedAt: Date.distantPast))

    init(log: EventLog, flushInterval: TimeInterval = 60) {
        self.log = log
        self.flushInterval = flushInterval
    }

    /// Adds requests counted at `time`, by app.
    func add(_ requests: [String: Int], at time: Date) {
        let hour = Int((time.timeIntervalSince1970 / 3_600).rounded(.down))
        let due: [String: Pending] = state.withLockedValue { state in
            var due: [String: Pending] = [:]
            for (app, count) in requests where count > 0 {
                if let pending = state.pending[app], pending.hour != hour {
                    due[app] = pending
                    state.pending[app] = nil
                }
                state.pending[app, default: Pending(hour: hour, requests: 0)].requests += count
            }
            if time.timeIntervalSince(state.flushedAt) >= flushInterval {
                for (app, pending) in state.pending where due[app] == nil { due[app] = pending }
                for app in due.keys where state.pending[app]?.hour == due[app]?.hour { state.pending[app] = nil }
                state.flushedAt = time
            }
            return due
        }
        write(due)
    }

    /// Writes whatever is counted and not yet written.
    func flush() {
        let due = state.withLockedValue { state in
            defer { state.pending = [:] }
            return state.pending
        }
        write(due)
    }

    private func write(_ due: [String: Pending]) {
        for (app, pending) in due {
            try? log.addTraffic(
                app: app,
                requests: pending.requests,
                at: Date(timeIntervalSince1970: TimeInterval(pending.hour * 3_600))
            )
        }
    }
}
