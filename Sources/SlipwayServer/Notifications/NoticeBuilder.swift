import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayStore

/// Turns recorded events into notices, with the rollout they belong to (from the app's live status) and, on a
/// rollback, the evidence that decided it.
struct NoticeBuilder: Sendable {
    /// The dashboard's address, without a trailing slash: links go to `<dashboard>/#app=<app>`.
    var dashboard: String?

    /// The notice for `event` (of `severity`, see ``severity(of:)``), given the app's status after it was applied;
    /// `evidence` is the last failing judgement of the rollout (for a `rolloutFinished` that went back).
    func notice(
        for event: RecordedEvent,
        severity: NotificationSeverity,
        spec: AppSpec,
        status: AppStatus?,
        evidence: [CheckEvidence]
    ) -> Notice {
        let fields = event.fields
        let number = fields["rollout"]?.intValue
        let rollout = status?.rollout.flatMap { number == nil || $0.number == number ? $0 : nil }
        var notice = Notice(
            kind: event.kind,
            severity: severity,
            app: spec.name,
            environment: spec.environment,
            rollout: number ?? rollout?.number,
            title: spec.name + ": " + Self.headline(event, rollout),
            from: rollout?.from ?? fields["from"]?.stringValue,
            to: rollout?.to ?? fields["to"]?.stringValue ?? fields["version"]?.stringValue,
            strategy: rollout?.strategy,
            startedBy: rollout?.by ?? fields["by"]?.stringValue,
            reason: rollout?.reason ?? fields["reason"]?.stringValue,
            at: event.time
        )
        if let rollout {
            let step = min(rollout.step + 1, max(rollout.steps, 1))
            notice.step =
                "\(step) of \(rollout.steps)" + (rollout.stepDescription.isEmpty ? "" : ": \(rollout.stepDescription)")
            notice.result = Self.result(rollout.state)
            if let ms = fields["durationMs"]?.intValue {
                notice.duration = .milliseconds(ms)
            } else {
                notice.duration = .milliseconds(
                    Int64(((rollout.endedAt ?? event.time).timeIntervalSince(rollout.startedAt) * 1000).rounded())
                )
            }
        }
        switch event.kind {
        case .rolloutRollingBack:
            notice.checks = Self.checks(in: fields)
            if let why = fields["reason"]?.stringValue { notice.details.append(NoticeDetail("Why it went back", why)) }
        case .rolloutFinished:
            if fields["outcome"]?.stringValue != "promoted" {
                notice.checks = evidence
                if let why = fields["reason"]?.stringValue {
                    notice.details.append(NoticeDetail("Why it went back", why))
                }
            }
        case .hookFinished, .hookStarted, .gateWaiting:
            let hook = "\(fields["point"]?.stringValue ?? "?") · \(fields["hook"]?.stringValue ?? "?")"
            notice.details.append(NoticeDetail("Hook", hook))
            if let summary = fields["summary"]?.stringValue { notice.details.append(NoticeDetail("Result", summary)) }
            if let problem = fields["problem"]?.stringValue { notice.details.append(NoticeDetail("Answer", problem)) }
            if let output = fields["output"]?.stringValue, !output.isEmpty {
                notice.details.append(NoticeDetail("Output (end)", String(output.suffix(600))))
            }
        case .deployForced:
            notice.reason = fields["reason"]?.stringValue
            notice.startedBy = fields["by"]?.stringValue
            if case .array(let details)? = fields["details"] {
                for detail in details.compactMap(\.stringValue) {
                    notice.details.append(NoticeDetail("Overridden", detail))
                }
            }
        case .analysisJudged:
            notice.checks = Self.checks(in: fields)
        case .experimentConcluded:
            if let why = fields["reason"]?.stringValue { notice.details.append(NoticeDetail("Why it ended", why)) }
            if let report = fields["report"].flatMap(ExperimentReport.init(json:)) {
                notice.details += Self.experimentDetails(report)
                if report.awaitingChoice, let variants = report.goals.first?.variants, variants.count >= 2 {
                    let keep =
                        variants.count == 2
                        ? "promote keeps \(variants[1].version)"
                        : variants.dropFirst().map { "promote --variant \($0.name) keeps \($0.version)" }
                            .joined(separator: ", ")
                    notice.details.append(NoticeDetail("Your choice", "\(keep); abort keeps \(variants[0].version)"))
                }
            }
        default:
            break
        }
        // What was shipped, on every notice about the rollout.
        if let release = rollout?.release ?? ReleaseMetadata(json: fields["release"]) {
            notice.details += release.lines.map { NoticeDetail($0.label, $0.value) }
        }
        if let dashboard {
            let name = spec.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? spec.name
            notice.dashboardURL = "\(dashboard)/#app=\(name)"
            if let number = notice.rollout {
                notice.reportURL = dashboard + ReportRoutes.pagePath(app: spec.name, rollout: number)
            }
        }
        return notice
    }

    /// An experiment's verdict, every goal's figures and the split check, a line each.
    static func experimentDetails(_ report: ExperimentReport) -> [NoticeDetail] {
        var details = [NoticeDetail("Verdict", report.summary)]
        for goal in report.goals {
            let figures = goal.variants.map { variant in
                "\(variant.name) \(variant.mean.map(ExperimentReport.number) ?? "–") (\(variant.units) \(report.unit ?? "request")s)"
            }
            let verdicts = goal.comparisons.map { "\($0.variant) \($0.verdict.text)" }
            details.append(
                NoticeDetail("Goal \(goal.name)", (figures + verdicts).joined(separator: ", "))
            )
        }
        details.append(NoticeDetail("Split", report.split.summary))
        return details
    }

    /// The checks of an `analysisJudged` event, or of the evidence in a `rolloutRollingBack`, then its comparisons
    /// with the stable version.
    static func checks(in fields: [String: JSONValue]) -> [CheckEvidence] {
        var evidence: [CheckEvidence] = []
        if case .array(let checks)? = fields["checks"] { evidence += thresholds(checks) }
        if case .array(let comparisons)? = fields["comparisons"] { evidence += Self.comparisons(comparisons) }
        return evidence
    }

    /// Comparisons: the ratio and its interval (or the distribution's gap), against the e-value needed.
    private static func comparisons(_ comparisons: [JSONValue]) -> [CheckEvidence] {
        comparisons.compactMap { comparison in
            guard case .object(let object) = comparison, let text = object["compare"]?.stringValue else { return nil }
            var value = "no data"
            if let ratio = object["ratio"] {
                value = "\(ratio)× the stable version's"
                if case .array(let bounds)? = object["ratioInterval"], bounds.count == 2 {
                    value += " (\(bounds[0])×–\(bounds[1] == .null ? "∞" : "\(bounds[1])×"))"
                }
            } else if let statistic = object["statistic"] {
                value = "gap \(statistic) (band \(object["band"] ?? .null))"
            }
            if let eValue = object["maxEValue"] { value += ", e = \(eValue)" }
            var samples: Int?
            if case .object(let candidate)? = object["candidate"] { samples = candidate["requests"]?.intValue }
            return CheckEvidence(
                check: text,
                value: value,
                threshold: object["threshold"].map { "e ≥ \($0)" } ?? "bands apart",
                samples: samples,
                passed: object["standing"]?.stringValue != "harm"
            )
        }
    }

    private static func thresholds(_ checks: [JSONValue]) -> [CheckEvidence] {
        checks.compactMap { check in
            guard case .object(let object) = check, let text = object["check"]?.stringValue else { return nil }
            return CheckEvidence(
                check: text,
                value: object["value"]?.stringValue ?? "no data",
                threshold: object["threshold"]?.stringValue ?? "?",
                samples: object["requests"]?.intValue,
                passed: object["verdict"]?.stringValue == "pass"
            )
        }
    }

    /// How serious an event is: rollbacks and failed blocking hooks are critical; forced deploys, aborts,
    /// failing instances and other failed hooks are warnings; the rest is information.
    static func severity(of event: RecordedEvent) -> NotificationSeverity {
        let fields = event.fields
        switch event.kind {
        case .rolloutRollingBack:
            return fields["outcome"]?.stringValue == "rolledBack" ? .critical : .warning
        case .rolloutFinished:
            switch fields["outcome"]?.stringValue {
            case "promoted": return .info
            case "rolledBack": return .critical
            default: return .warning
            }
        case .hookFinished:
            guard fields["result"]?.stringValue != "succeeded" else { return .info }
            let point = fields["point"]?.stringValue.flatMap(HookPoint.init(rawValue:))
            return point?.blocksRollout == true ? .critical : .warning
        case .deployForced, .crashLoopBackoff, .instanceUnhealthy, .instanceFailedToStart, .instanceStartFailed,
            .notificationFailed:
            return .warning
        case .analysisJudged:
            return fields["verdict"]?.stringValue == "fail" ? .warning : .info
        default:
            return .info
        }
    }

    private static func result(_ state: String) -> String {
        switch state {
        case "rollingBack": return "rolling back"
        case "rolledBack": return "rolled back"
        default: return state
        }
    }

    /// What happened, in a few words.
    private static func headline(_ event: RecordedEvent, _ rollout: RolloutRecord?) -> String {
        let fields = event.fields
        let number = rollout.map { "rollout #\($0.number)" } ?? "rollout"
        let to = rollout?.to ?? fields["to"]?.stringValue ?? "?"
        let from = rollout?.from ?? fields["from"]?.stringValue ?? "?"
        switch event.kind {
        case .rolloutStarted:
            return "\(number) of \(to) started (\(rollout?.strategy ?? "?"), from \(from))"
        case .rolloutPromoted:
            return "\(to) promoted (was \(from))"
        case .rolloutRollingBack:
            return "rolling back \(to) to \(from)"
        case .rolloutFinished:
            switch fields["outcome"]?.stringValue {
            case "promoted": return "\(number) finished: \(to) promoted"
            case "rolledBack": return "\(to) rolled back to \(from)"
            case let outcome?: return "\(number) of \(to) \(outcome); \(from) serves"
            case nil: return "\(number) finished"
            }
        case .rolloutPaused:
            return "\(number) paused"
        case .rolloutResumed:
            return "\(number) resumed"
        case .hookFinished:
            let hook = "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?")"
            return "\(hook) \(fields["result"]?.stringValue == "succeeded" ? "succeeded" : "failed")"
        case .hookStarted:
            return "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?") started"
        case .gateWaiting:
            return "waiting for gate \(fields["hook"]?.stringValue ?? "?")"
        case .deployForced:
            let version = fields["version"]?.stringValue ?? "?"
            let by = fields["by"]?.stringValue ?? "?"
            return "deploy of \(version) forced by \(by)"
        case .crashLoopBackoff:
            return "instances keep failing; restarts back off"
        case .experimentConcluded:
            return "experiment of \(number) concluded: \(fields["summary"]?.stringValue ?? "?")"
        case .variantChosen:
            let variant = fields["variant"]?.stringValue ?? "?"
            return
                "\(fields["by"]?.stringValue ?? "a user") kept variant \(variant) (\(fields["version"]?.stringValue ?? "?")) of \(number)"
        default:
            return event.kind.rawValue
        }
    }
}
