import Foundation
import SlipwayCore
import SlipwayStore

/// The demo's timeline: one readable line per event worth telling.
enum DemoNarration {
    static func line(for recorded: RecordedEvent, since began: Date) -> String? {
        let fields = recorded.fields
        let text: String
        switch recorded.kind {
        case .rolloutStarted:
            let reason = fields["reason"]?.stringValue.map { " — \"\($0)\"" } ?? ""
            text =
                "rollout #\(fields["rollout"]?.intValue ?? 0): \(fields["from"]?.stringValue ?? "?") → "
                + "\(fields["to"]?.stringValue ?? "?") (\(fields["strategy"]?.stringValue ?? "?"))\(reason)"
        case .rolloutStepStarted:
            text =
                "step \((fields["step"]?.intValue ?? 0) + 1)/\(fields["steps"]?.intValue ?? 0): "
                + (fields["description"]?.stringValue ?? "")
        case .trafficShifted:
            guard case .object(let weights)? = fields["weights"] else { return nil }
            text =
                "traffic: "
                + weights.keys.sorted().map { version in
                    let percent = weights[version]?.numberValue ?? 0
                    return "\(version) \(percent == percent.rounded() ? String(Int(percent)) : String(percent))%"
                }.joined(separator: ", ")
        case .analysisJudged:
            text = "analysis \(fields["verdict"]?.stringValue ?? "?"): \(fields["summary"]?.stringValue ?? "")"
        case .instanceWarmedUp:
            text = "\(recorded.instance?.rawValue ?? "?") warmed up"
        case .rolloutRollingBack:
            text = "going back to \(fields["to"]?.stringValue ?? "stable"): \(fields["reason"]?.stringValue ?? "")"
        case .rolloutPromoted:
            text = "promoted: \(fields["to"]?.stringValue ?? "?") takes all traffic"
        case .rolloutFinished:
            let seconds = Double(fields["durationMs"]?.intValue ?? 0) / 1000
            text =
                "rollout #\(fields["rollout"]?.intValue ?? 0) ended \(fields["outcome"]?.stringValue ?? "?") after "
                + "\(String(format: "%.1f", seconds)) s; stable: \(fields["stable"]?.stringValue ?? "?")"
        case .instanceHealthy:
            text = "\(recorded.instance?.rawValue ?? "?") (\(fields["version"]?.stringValue ?? "?")) is healthy"
        case .instanceExited:
            guard fields["expected"] == false else { return nil }
            text = "\(recorded.instance?.rawValue ?? "?") exited unexpectedly: \(fields["status"]?.stringValue ?? "")"
        default:
            return nil
        }
        let offset = recorded.time.timeIntervalSince(began)
        return String(format: "  %6.1fs  ", offset) + text
    }
}
