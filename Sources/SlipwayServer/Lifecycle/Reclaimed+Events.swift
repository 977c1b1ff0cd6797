import SlipwayCore
import SlipwayPlatform

extension Reclaimed {
    /// The `instanceStopping` event of each instance that ran unknown to the log, now stopped, with `reason`.
    func events(app: String, reason: String) -> [Event] {
        stopped.map { id in
            Event(
                app: app,
                kind: .instanceStopping,
                instance: id,
                fields: ["reason": .string(reason)]
            )
        }
    }
}
