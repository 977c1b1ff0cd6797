import Foundation
import SlipwayCore
import SlipwayStore

/// An event told as a short sentence, for the demo's narration and a rollout report's timeline.
enum EventSentence {
    /// The sentence for `recorded`; nil for events not worth telling. `narration`: only what the demo tells (an
    /// instance's expected exit, hooks and pauses are left out there).
    static func text(for recorded: RecordedEvent, narration: Bool = false) -> String? {
        let fields = recorded.fields
        switch recorded.kind {
        case .rolloutStarted:
            let reason = fields["reason"]?.stringValue.map { " — \"\($0)\"" } ?? ""
            return
                "rollout #\(fields["rollout"]?.intValue ?? 0): \(fields["from"]?.stringValue ?? "?") → "
                + "\(fields["to"]?.stringValue ?? "?") (\(fields["strategy"]?.stringValue ?? "?"))\(reason)"
        case .rolloutStepStarted:
            return
                "step \((fields["step"]?.intValue ?? 0) + 1)/\(fields["steps"]?.intValue ?? 0): "
                + (fields["description"]?.stringValue ?? "")
        case .trafficShifted:
            guard case .object(let weights)? = fields["weights"] else { return nil }
            return
                "traffic: "
                + weights.keys.sorted().map { version in
                    let percent = weights[version]?.numberValue ?? 0
                    return "\(version) \(percent == percent.rounded() ? String(Int(percent)) : String(percent))%"
                }.joined(separator: ", ")
        case .analysisJudged:
            return "analysis \(fields["verdict"]?.stringValue ?? "?"): \(fields["summary"]?.stringValue ?? "")"
        case .instanceWarmedUp:
            return "\(recorded.instance?.rawValue ?? "?") warmed up"
        case .rolloutRollingBack:
            return "going back to \(fields["to"]?.stringValue ?? "stable"): \(fields["reason"]?.stringValue ?? "")"
        case .rolloutPromoted:
            return "promoted: \(fields["to"]?.stringValue ?? "?") takes all traffic"
        case .rolloutFinished:
            let seconds = Double(fields["durationMs"]?.intValue ?? 0) / 1000
            return
                "rollout #\(fields["rollout"]?.intValue ?? 0) ended \(fields["outcome"]?.stringValue ?? "?") after "
                + "\(String(format: "%.1f", seconds)) s; stable: \(fields["stable"]?.stringValue ?? "?")"
        case .instanceHealthy:
            return "\(recorded.instance?.rawValue ?? "?") (\(fields["version"]?.stringValue ?? "?")) is healthy"
        case .instanceExited:
            guard fields["expected"] == false else {
                return narration ? nil : "\(recorded.instance?.rawValue ?? "?") stopped"
            }
            return "\(recorded.instance?.rawValue ?? "?") exited unexpectedly: \(fields["status"]?.stringValue ?? "")"
        default:
            return narration ? nil : reportText(for: recorded)
        }
    }

    /// What a report's timeline adds to the demo's narration.
    private static func reportText(for recorded: RecordedEvent) -> String? {
        let fields = recorded.fields
        let instance = recorded.instance?.rawValue ?? "?"
        switch recorded.kind {
        case .instanceStarted:
            return "\(instance) (\(fields["version"]?.stringValue ?? "?")) started"
        case .instanceUnhealthy:
            return "\(instance) is unhealthy: \(fields["reason"]?.stringValue ?? "")"
        case .instanceFailedToStart, .instanceStartFailed:
            return "\(instance) failed to start: \(fields["reason"]?.stringValue ?? fields["error"]?.stringValue ?? "")"
        case .crashLoopBackoff:
            return "\(instance) keeps crashing; next start delayed"
        case .rolloutPaused:
            return "paused by \(fields["by"]?.stringValue ?? "a user")"
        case .rolloutResumed:
            return "resumed by \(fields["by"]?.stringValue ?? "a user")"
        case .hookStarted:
            return "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?") started"
        case .hookFinished:
            let hook = "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?")"
            return "\(hook) \(fields["result"]?.stringValue ?? "finished")"
                + (fields["summary"]?.stringValue.map { ": \($0)" } ?? "")
        case .gateWaiting:
            return "waiting for gate \(fields["hook"]?.stringValue ?? "?"): \(fields["problem"]?.stringValue ?? "")"
        case .experimentStarted:
            return "experiment started"
        case .experimentConcluded:
            return "experiment concluded: \(fields["summary"]?.stringValue ?? "")"
        case .variantChosen:
            let variant = fields["variant"]?.stringValue ?? "?"
            return
                "\(fields["by"]?.stringValue ?? "a user") chose \(variant) (\(fields["version"]?.stringValue ?? "?"))"
        case .commandRefused:
            return "refused \(fields["command"]?.stringValue ?? "a command"): \(fields["reason"]?.stringValue ?? "")"
        case .deployForced:
            return "forced by \(fields["by"]?.stringValue ?? "?"): \(fields["reason"]?.stringValue ?? "")"
        default:
            return nil
        }
    }
}
