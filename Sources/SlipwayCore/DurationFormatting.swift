extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// A short human form: `750ms`, `2s`, `1.5s`, `1m30s`.
    public var compactText: String {
        let ms = milliseconds
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 {
            return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(Double(ms) / 1000)s"
        }
        let minutes = ms / 60_000
        let rest = (ms % 60_000) / 1000
        return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
    }
}
