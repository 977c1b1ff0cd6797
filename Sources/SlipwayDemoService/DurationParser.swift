import SlipwayCore

/// Parses the durations the demo service's knobs take: `250ms`, `2s`, `1m30s`, `1.5s`, `1h` (as in `slipway.yaml`),
/// and also a plain number, which means milliseconds.
///
/// Negative values and anything longer than ``maximum`` are rejected.
public enum DurationParser {
    /// The longest duration accepted.
    public static let maximum: Duration = .seconds(24 * 60 * 60)

    /// The duration `text` spells, or `nil` when it is not a valid duration.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        let duration: Duration
        if let plain = Double(trimmed) {
            guard plain.isFinite, plain >= 0, plain <= 24 * 3_600_000 else { return nil }
            duration = .microseconds((plain * 1_000).rounded())
        } else if let parsed = DurationText.parse(trimmed) {
            duration = parsed
        } else {
            return nil
        }
        return duration <= maximum ? duration : nil
    }
}
