import Foundation
import NIOConcurrencyHelpers
import SlipwayCore
import SlipwayStore
import Tracing

/// Every rollout as a trace: a span from its start to its end, with a child span per step, and the decisions
/// (traffic shifts, analysis verdicts, hooks, pauses, the rollback) as span events, all at the times the event log
/// recorded them. A team sees a rollout next to the traffic the proxy traced in Jaeger or Tempo.
///
/// Spans live in memory: a rollout that a restarted controller carries on starts a new span at the restart (its
/// `slipway.resumed` attribute says so), and one left open by a controller that stopped is never exported.
final class RolloutSpans: Sendable {
    private struct Open: Sendable {
        var rollout: any Span
        var step: (any Span)?
    }

    private let tracer: any Tracer
    private let open = NIOLockedValueBox([String: Open]())

    init(tracer: any Tracer) {
        self.tracer = tracer
    }

    /// Takes one recorded event into the spans of its rollout.
    func record(_ recorded: RecordedEvent) {
        guard let number = recorded.fields["rollout"]?.intValue else { return }
        let key = "\(recorded.app)#\(number)"
        let instant = EventInstant(recorded.time)
        let fields = recorded.fields
        open.withLockedValue { open in
            if recorded.kind == .rolloutStarted {
                open[key] = Open(rollout: startRollout(recorded, number: number, at: instant, resumed: false))
                return
            }
            if open[key] == nil, recorded.kind != .rolloutFinished {
                // A rollout this controller took over from an earlier one.
                open[key] = Open(rollout: startRollout(recorded, number: number, at: instant, resumed: true))
            }
            guard var current = open[key] else { return }
            switch recorded.kind {
            case .rolloutStepStarted:
                current.step?.end(at: instant)
                let step = (fields["step"]?.intValue ?? 0) + 1
                let description = fields["description"]?.stringValue ?? ""
                let span = tracer.startSpan(
                    "step \(step)/\(fields["steps"]?.intValue ?? 0): \(description)",
                    context: current.rollout.context,
                    ofKind: .internal,
                    at: instant
                )
                span.attributes["slipway.app"] = recorded.app
                span.attributes["slipway.rollout"] = number
                span.attributes["slipway.step"] = step
                current.step = span
            case .rolloutFinished:
                current.step?.end(at: instant)
                let outcome = fields["outcome"]?.stringValue ?? "?"
                current.rollout.attributes["slipway.outcome"] = outcome
                if outcome != "promoted" {
                    current.rollout.setStatus(SpanStatus(code: .error, message: fields["reason"]?.stringValue))
                }
                current.rollout.end(at: instant)
                open[key] = nil
                return
            default:
                guard let name = Self.eventName(recorded) else { break }
                var attributes: SpanAttributes = [:]
                for (field, value) in fields.sorted(by: { $0.key < $1.key }) where field != "rollout" {
                    if let text = Self.attribute(value) { attributes["slipway.\(field)"] = text }
                }
                if let instance = recorded.instance { attributes["slipway.instance"] = instance.rawValue }
                (current.step ?? current.rollout).addEvent(SpanEvent(name: name, at: instant, attributes: attributes))
                if recorded.kind == .rolloutRollingBack {
                    current.rollout.setStatus(SpanStatus(code: .error, message: fields["reason"]?.stringValue))
                }
            }
            open[key] = current
        }
    }

    private func startRollout(
        _ recorded: RecordedEvent,
        number: Int,
        at instant: EventInstant,
        resumed: Bool
    )
        -> any Span
    {
        let record = RolloutRecord(started: recorded)
        let span = tracer.startSpan(
            "rollout \(recorded.app) #\(number)",
            context: .topLevel,
            ofKind: .internal,
            at: instant
        )
        span.attributes["slipway.app"] = recorded.app
        span.attributes["slipway.rollout"] = number
        if resumed { span.attributes["slipway.resumed"] = true }
        guard let record else { return span }
        span.attributes["slipway.from"] = record.from
        span.attributes["slipway.to"] = record.to
        span.attributes["slipway.strategy"] = record.strategy
        span.attributes["slipway.purpose"] = record.purpose
        if !record.by.isEmpty { span.attributes["slipway.by"] = record.by }
        if let reason = record.reason { span.attributes["slipway.reason"] = reason }
        for (label, value) in record.release?.lines ?? [] {
            span.attributes["slipway.release.\(label.lowercased())"] = value
        }
        return span
    }

    /// The span event an event of the rollout becomes; nil for those the spans themselves tell.
    private static func eventName(_ recorded: RecordedEvent) -> String? {
        switch recorded.kind {
        case .trafficShifted, .analysisJudged, .rolloutPaused, .rolloutResumed, .rolloutRollingBack, .rolloutPromoted,
            .hookStarted, .hookFinished, .gateWaiting, .variantChosen, .experimentStarted, .experimentConcluded,
            .instanceStarted:
            return recorded.kind.rawValue
        default:
            return nil
        }
    }

    /// A field as a span attribute: strings, numbers and booleans as they are, anything else as its JSON text.
    private static func attribute(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .null: return nil
        default: return value.description
        }
    }
}

/// A moment of the event log as the tracing API takes it.
struct EventInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    init(_ date: Date) {
        nanosecondsSinceEpoch = UInt64(max(0, date.timeIntervalSince1970 * 1_000_000_000))
    }

    static func < (lhs: EventInstant, rhs: EventInstant) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }
}
