import NIOConcurrencyHelpers
import SlipwayProxy

/// The controller's app listeners by app name, filled as they bind.
final class ListenerRegistry: Sendable {
    private let listeners = NIOLockedValueBox([String: AppListener]())

    func add(_ listener: AppListener) {
        listeners.withLockedValue { $0[listener.app] = listener }
    }

    subscript(app: String) -> AppListener? {
        listeners.withLockedValue { $0[app] }
    }

    var all: [AppListener] {
        listeners.withLockedValue { Array($0.values) }
    }
}
