import ServiceContextModule
import SlipwayCore
import SlipwayHTTP1
import Tracing

/// The proxy's part in distributed tracing: each request it forwards continues the W3C trace its `traceparent`
/// names, or starts one, in a server span of its own; the instance receives a `traceparent` whose parent is that
/// span. Whether a trace is kept is the tracer's sampler's decision (a sampled parent is followed, a new trace is
/// sampled at the configured ratio); an unsampled span costs no export.
///
/// Span: named after the method (`GET`), kind server, with `http.request.method`, `url.path` (no query),
/// `http.response.status_code`, `http.response.body.size`, `slipway.app`, `slipway.version`, `slipway.instance`
/// and `slipway.request_id`; status error for a 5xx.
public struct RequestTracing: Sendable {
    /// Where spans go.
    public let tracer: any Tracer

    /// Tracing through `tracer`.
    public init(tracer: any Tracer) {
        self.tracer = tracer
    }

    /// Starts the span of a request; returns it with the `traceparent` (and `tracestate`) the instance receives
    /// in place of the client's. The caller adds the request id once it is known.
    func start(
        _ head: RequestHead,
        app: String
    ) -> (span: any Span, fields: (traceparent: String, tracestate: String?)?) {
        var context = ServiceContext.topLevel
        tracer.extract(head, into: &context, using: HeadExtractor())
        let method = head.methodText
        let span = tracer.startSpan(method, context: context, ofKind: .server)
        span.attributes["http.request.method"] = method
        span.attributes["url.path"] = FailedRequest.path(of: head.target)
        span.attributes["slipway.app"] = app
        var fields = TraceFields()
        tracer.inject(span.context, into: &fields, using: TraceFieldsInjector())
        return (span, fields.traceparent.map { ($0, fields.tracestate) })
    }

    /// Ends a request's span with what happened to it.
    func end(_ span: any Span, status: Int, version: String?, instance: String?, bytes: Int) {
        span.attributes["http.response.status_code"] = status
        span.attributes["http.response.body.size"] = bytes
        if let version { span.attributes["slipway.version"] = version }
        if let instance { span.attributes["slipway.instance"] = instance }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end()
    }
}

/// Reads trace context headers of a request head, in place.
struct HeadExtractor: Extractor {
    func extract(key: String, from carrier: RequestHead) -> String? {
        carrier.firstValue(named: key)
    }
}

/// The trace context fields the proxy sends an instance.
struct TraceFields {
    var traceparent: String?
    var tracestate: String?
}

/// Writes the W3C trace context into ``TraceFields``.
struct TraceFieldsInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout TraceFields) {
        switch key.lowercased() {
        case "traceparent": carrier.traceparent = value
        case "tracestate": carrier.tracestate = value
        default: break
        }
    }
}
