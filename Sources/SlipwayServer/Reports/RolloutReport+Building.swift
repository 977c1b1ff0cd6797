import Foundation
import SlipwayCore
import SlipwayStore

extension RolloutReport {
    /// Failed requests a report lists.
    public static let failedRequestLimit = 50

    /// The report of rollout `number` of `app` (nil: its newest) as `log` tells it; refused with 404 when the app had
    /// no such rollout.
    public static func load(from log: EventLog, app: String, rollout number: Int?) throws -> RolloutReport {
        let events = try log.events(app: app, limit: .max)
        let records = RolloutRecord.fold(events)
        guard let record = number.map({ wanted in records.first { $0.number == wanted } }) ?? records.last else {
            let known = records.last.map { "its rollouts are #1 to #\($0.number)" } ?? "it has had no rollout"
            let which = number.map { "no rollout #\($0)" } ?? "no rollout"
            throw CommandRefusal(.notFound, "\"\(app)\" has \(which) (\(known))")
        }
        return RolloutReport(
            app: app,
            record: record,
            events: events,
            points: try log.trafficPoints(app: app, rollout: record.number),
            failures: try log.failedRequests(app: app, rollout: record.number, limit: 500)
        )
    }

    /// The report of `record`, from the app's events (all of them, in log order), the rollout's traffic points and its
    /// recorded failed requests.
    public init(
        app: String,
        record: RolloutRecord,
        events: [RecordedEvent],
        points: [RolloutTrafficPoint],
        failures: RecordedFailures
    ) {
        self.app = app
        rollout = record.number
        self.record = record
        candidates = [record.to] + (record.variants ?? [])
        let own = Self.events(of: record, in: events)
        timeline = own.compactMap(Self.entry)
        weights = own.compactMap { recorded in
            guard recorded.kind == .trafficShifted, case .object(let weights)? = recorded.fields["weights"] else {
                return nil
            }
            return WeightChange(time: recorded.time, percent: weights.compactMapValues(\.numberValue))
        }
        traffic = Self.traffic(points, record: record)
        decisions = own.compactMap(Self.decision)
        let candidates = Set(candidates)
        failedRequests = Array(
            failures.newest.filter { candidates.contains($0.version) }.prefix(Self.failedRequestLimit)
        )
        failedRequestsRecorded = failures.kept
        stderr = own.compactMap { recorded in
            guard let instance = recorded.instance?.rawValue,
                let version = recorded.fields["version"]?.stringValue, candidates.contains(version)
            else { return nil }
            // Recorded when the verdict became final, or when the instance crashed.
            let (when, key): (String, String)
            switch recorded.kind {
            case .instanceLogTail: (when, key) = ("verdict", "lines")
            case .instanceExited: (when, key) = ("crash", "stderrTail")
            default: return nil
            }
            guard case .array(let lines)? = recorded.fields[key] else { return nil }
            return InstanceOutput(
                instance: instance,
                version: version,
                time: recorded.time,
                when: when,
                lines: lines.compactMap(\.stringValue)
            )
        }
    }

    /// The rollout's own events (those carrying its number), and the events of the instances it started, up to
    /// ``RolloutEvidence/afterEnd`` past its end.
    static func events(of record: RolloutRecord, in events: [RecordedEvent]) -> [RecordedEvent] {
        let end = record.endedAt.map { $0.addingTimeInterval(RolloutEvidence.afterEnd) } ?? .distantFuture
        var started: [InstanceID: String] = [:]
        var own: [RecordedEvent] = []
        for recorded in events where recorded.time >= record.startedAt.addingTimeInterval(-1) && recorded.time <= end {
            if recorded.fields["rollout"]?.intValue == record.number {
                if recorded.kind == .instanceStarted, let id = recorded.instance {
                    started[id] = recorded.fields["version"]?.stringValue
                }
                own.append(recorded)
            } else if let id = recorded.instance, let version = started[id], recorded.fields["rollout"] == nil {
                var event = recorded
                // Events of an instance after its start do not repeat its version: the report's sections need it.
                if event.fields["version"] == nil { event.event.fields["version"] = .string(version) }
                own.append(event)
            }
        }
        return own
    }

    private static func entry(_ recorded: RecordedEvent) -> TimelineEntry? {
        guard let text = EventSentence.text(for: recorded) else { return nil }
        let fields = recorded.fields
        let alarming: Bool
        switch recorded.kind {
        case .analysisJudged: alarming = fields["verdict"]?.stringValue == "fail"
        case .rolloutRollingBack, .instanceUnhealthy, .instanceFailedToStart, .instanceStartFailed, .crashLoopBackoff:
            alarming = true
        case .instanceExited: alarming = fields["expected"] == false
        case .hookFinished: alarming = fields["result"]?.stringValue != "succeeded"
        case .rolloutFinished: alarming = fields["outcome"]?.stringValue != "promoted"
        default: alarming = false
        }
        return TimelineEntry(
            time: recorded.time,
            kind: recorded.kind.rawValue,
            instance: recorded.instance?.rawValue,
            text: text,
            alarming: alarming
        )
    }

    private static func decision(_ recorded: RecordedEvent) -> Decision? {
        let fields = recorded.fields
        let checks = NoticeBuilder.checks(in: fields).map {
            Decision.Check(
                check: $0.check,
                value: $0.value,
                threshold: $0.threshold,
                samples: $0.samples,
                passed: $0.passed
            )
        }
        switch recorded.kind {
        case .analysisJudged:
            let kind = fields["analysis"]?.stringValue == "compare" ? "comparison" : "analysis"
            return Decision(
                time: recorded.time,
                kind: kind,
                verdict: fields["verdict"]?.stringValue ?? "?",
                summary: fields["summary"]?.stringValue ?? "",
                checks: checks
            )
        case .rolloutRollingBack:
            return Decision(
                time: recorded.time,
                kind: "rollback",
                verdict: fields["outcome"]?.stringValue ?? "rolledBack",
                summary: fields["reason"]?.stringValue ?? "",
                checks: checks
            )
        case .experimentConcluded:
            return Decision(
                time: recorded.time,
                kind: "experiment",
                verdict: "concluded",
                summary: fields["summary"]?.stringValue ?? "",
                checks: []
            )
        case .hookFinished:
            let hook = "\(fields["point"]?.stringValue ?? "?") hook \(fields["hook"]?.stringValue ?? "?")"
            return Decision(
                time: recorded.time,
                kind: "hook",
                verdict: fields["result"]?.stringValue ?? "?",
                summary: "\(hook): \(fields["summary"]?.stringValue ?? fields["result"]?.stringValue ?? "")",
                checks: []
            )
        case .rolloutPromoted, .variantChosen:
            return Decision(
                time: recorded.time,
                kind: "promotion",
                verdict: "promoted",
                summary: EventSentence.text(for: recorded) ?? "",
                checks: []
            )
        default:
            return nil
        }
    }

    /// Each version's points, the stable version first, then the candidate, then the other variants.
    private static func traffic(_ points: [RolloutTrafficPoint], record: RolloutRecord) -> [VersionTraffic] {
        let grouped = Dictionary(grouping: points, by: \.version)
        let order = [record.from, record.to] + (record.variants ?? [])
        let versions = grouped.keys.sorted { lhs, rhs in
            (order.firstIndex(of: lhs) ?? order.count, lhs) < (order.firstIndex(of: rhs) ?? order.count, rhs)
        }
        return versions.map { version in
            let points = grouped[version, default: []].map {
                VersionTraffic.Point(
                    time: $0.time,
                    seconds: $0.seconds,
                    requests: $0.requests,
                    errors: $0.errors,
                    p99Ms: $0.p99Ms
                )
            }
            let role = version == record.from ? "stable" : version == record.to ? "candidate" : "variant"
            return VersionTraffic(
                version: version,
                role: role,
                points: points,
                requests: points.reduce(0) { $0 + $1.requests },
                errors: points.reduce(0) { $0 + $1.errors },
                worstP99Ms: points.compactMap(\.p99Ms).max()
            )
        }
    }
}
