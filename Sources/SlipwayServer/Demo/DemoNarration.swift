import Foundation
import SlipwayCore
import SlipwayStore

/// The demo's timeline: one readable line per event worth telling.
enum DemoNarration {
    static func line(for recorded: RecordedEvent, since began: Date) -> String? {
        guard let text = EventSentence.text(for: recorded, narration: true) else { return nil }
        let offset = recorded.time.timeIntervalSince(began)
        return String(format: "  %6.1fs  ", offset) + text
    }
}
