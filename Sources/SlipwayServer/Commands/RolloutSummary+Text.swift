extension RolloutSummary {
    /// `shop: rollout #3 1.0.0 → 2.0.0 (canary)`.
    public var title: String {
        "\(app): rollout #\(rollout) \(from) → \(to) (\(strategy))"
    }

    /// The step in progress as people count it: `step 3/9 weight 25%`, or `step 9/9` once every step is done.
    public var stepText: String {
        let shown = min(step + 1, steps)
        let description = step < steps && !stepDescription.isEmpty ? " \(stepDescription)" : ""
        return "step \(shown)/\(steps)\(description)"
    }

    /// Where the rollout stands, in a few words: `running, step 3/9 weight 25%`, `rolled back: 5xx spike`.
    public var stateText: String {
        let because = reason.map { ": \($0)" } ?? ""
        switch state {
        case "running": return "running, \(stepText)"
        case "paused": return "paused at \(stepText)\(because)"
        case "rollingBack": return "rolling back to \(from)\(because)"
        case "promoted": return "promoted: \(to) is stable"
        case "rolledBack": return "rolled back\(because)"
        case "aborted": return "aborted\(because)"
        case "superseded": return "superseded\(because)"
        default: return "\(state)\(because)"
        }
    }

    /// One line for people after `command`: `shop: pause: rollout #3 1.0.0 → 2.0.0 (canary) paused at step 3/9 …`.
    public func headline(after command: String) -> String {
        "\(app): \(command): rollout #\(rollout) \(from) → \(to) (\(strategy)) \(stateText)"
    }
}
