/// Splits a `text/event-stream` body into events as its bytes arrive.
struct EventStreamParser {
    /// One event: its `id`, `event` name and `data` lines joined by newlines.
    struct Event: Equatable {
        var id: String?
        var name: String?
        var data: String
    }

    private var buffer = ""
    private var current = (id: String?.none, name: String?.none, data: [String]())

    /// Feeds more text; returns the events it completed.
    mutating func feed(_ text: String) -> [Event] {
        buffer += text
        var events: [Event] = []
        while let newline = buffer.firstIndex(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = String(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.isEmpty {
                if current.id != nil || current.name != nil || !current.data.isEmpty {
                    events.append(Event(id: current.id, name: current.name, data: current.data.joined(separator: "\n")))
                }
                current = (nil, nil, [])
                continue
            }
            if line.hasPrefix(":") { continue }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let field = String(parts[0])
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch field {
            case "id": current.id = value
            case "event": current.name = value
            case "data": current.data.append(value)
            default: break
            }
        }
        return events
    }
}
