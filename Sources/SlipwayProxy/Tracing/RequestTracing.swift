import NIOHTTP1
import ServiceContextModule
import SlipwayCore
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

    /// Starts the span of a request and rewrites its `traceparent` (and `tracestate`) for the instance.
    func start(_ head: inout HTTPRequestHead, app: String) -> any Span {
        var context = ServiceContext.topLevel
        tracer.extract(head.headers, into: &context, using: HeaderExtractor())
        let span = tracer.startSpan(head.method.rawValue, context: context, ofKind: .server)
        span.attributes["http.request.method"] = head.method.rawValue
        span.attributes["url.path"] = FailedRequest.path(of: head.uri)
        span.attributes["slipway.app"] = app
        if let id = head.headers.first(name: "X-Request-Id") { span.attributes["slipway.request_id"] = id }
        tracer.inject(span.context, into: &head.headers, using: HeaderInjector())
        return span
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

/// Reads trace context headers of a request.
struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: HTTPHeaders) -> String? {
        carrier.first(name: key)
    }
}

/// Writes trace context headers into a request, replacing any of the same name.
struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
