import SlipwayCore

/// A chaos step (`chaos:` in `strategy.canary.steps`): the same fault is applied to the requests of both the candidate
/// and the stable version, and the candidate fails when it degrades more under the fault than the stable version
/// does.
///
/// The step first watches both versions without the fault for `before`, then applies the fault for `duration`, to
/// the app's own listener or to the listener of a dependency (`app`). The fault is drawn per request, so each
/// version's requests get the same share of it, and the weights in force keep every user in their cohort. Each
/// version's degradation is its error rate and its latency quantiles under the fault against its own before the
/// fault; the step fails as soon as the candidate's rise exceeds the stable version's by more than `tolerance` with
/// confidence `1 − analysis.alpha`.
public struct ChaosStepSpec: Sendable, Equatable {
    /// What the fault does to a request it applies to.
    public enum FaultKind: String, Sendable, Equatable, CaseIterable {
        /// Answered by the proxy with `status`; the request reaches no instance.
        case abort
        /// Held `delay` (plus up to `jitter`) before it is sent on.
        case delay
        /// The client connection is reset at once.
        case reset
        /// The response body is sent at no more than `bytesPerSecond`.
        case bandwidth
    }

    /// `chaos.fault.header`: a header a request must carry with exactly this value.
    public struct Header: Sendable, Equatable {
        /// Its name (any case).
        public var name: String
        /// Its value.
        public var value: String

        /// Creates a header match.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `chaos.fault`: the fields of a fault as `slipway chaos fault` takes them, written the file's way.
    public struct Fault: Sendable, Equatable {
        /// What it does. Key `kind` (required).
        public var kind: FaultKind
        /// `abort`: the status answered, 400...599. Key `status`; default 503.
        public var status: Int?
        /// `delay`: the fixed delay, 1ms...60s. Key `delay` (required for `delay`).
        public var delay: Duration?
        /// `delay`: the largest extra delay drawn per request, up to 60s. Key `jitter`; default none.
        public var jitter: Duration?
        /// `bandwidth`: the response body's rate. Key `bytesPerSecond` (required for `bandwidth`).
        public var bytesPerSecond: Int?
        /// The share of matching requests it applies to, more than 0. Key `share`; default 100%.
        public var share: Percentage
        /// Only requests whose target starts with this (`/api/`). Key `path`.
        public var pathPrefix: String?
        /// Only requests with this method. Key `method`.
        public var method: String?
        /// Only requests carrying this header value. Key `header`: `{name: X-Test, value: "1"}`.
        public var header: Header?

        /// Creates a fault.
        public init(
            kind: FaultKind,
            status: Int? = nil,
            delay: Duration? = nil,
            jitter: Duration? = nil,
            bytesPerSecond: Int? = nil,
            share: Percentage = Percentage(basisPoints: 10_000),
            pathPrefix: String? = nil,
            method: String? = nil,
            header: Header? = nil
        ) {
            self.kind = kind
            self.status = status
            self.delay = delay
            self.jitter = jitter
            self.bytesPerSecond = bytesPerSecond
            self.share = share
            self.pathPrefix = pathPrefix
            self.method = method
            self.header = header
        }

        /// A few words for people: `delay 300ms on 50% of requests to /api`.
        public var description: String {
            let what: String
            switch kind {
            case .abort: what = "abort with \(status ?? 503)"
            case .delay:
                let jitterText = jitter.map { " (+ up to \(DurationText.format($0)))" } ?? ""
                what = "delay \(delay.map(DurationText.format) ?? "?")\(jitterText)"
            case .reset: what = "reset"
            case .bandwidth: what = "bandwidth \(bytesPerSecond ?? 0) B/s"
            }
            var scope = "\(share) of"
            if let method { scope += " \(method)" }
            scope += " requests"
            if let pathPrefix { scope += " to \(pathPrefix)" }
            if let header { scope += " with \(header.name): \(header.value)" }
            return "\(what) on \(scope)"
        }
    }

    /// How much more the candidate may degrade than the stable version before the step fails.
    public struct Tolerance: Sendable, Equatable {
        /// Extra rise of the error rate, in percentage points. Key `errors`; default 1%.
        public var errors: Percentage
        /// Extra rise of a latency quantile. Key `latency`; default 25ms.
        public var latency: Duration

        /// Creates a tolerance; the defaults are those used when the keys are absent.
        public init(errors: Percentage = Percentage(basisPoints: 100), latency: Duration = .milliseconds(25)) {
            self.errors = errors
            self.latency = latency
        }
    }

    /// The fault. Key `fault` (required).
    public var fault: Fault
    /// The app whose listener takes the fault (a dependency the app calls through Slipway); nil for the app's own.
    /// Key `app`.
    public var target: String?
    /// How long both versions are watched without the fault first, at least. Key `before`; default 1m.
    public var before: Duration
    /// How long the fault applies, at least. Key `duration`; default 2m.
    public var duration: Duration
    /// Key `tolerance`.
    public var tolerance: Tolerance

    /// Creates a chaos step; the defaults are those used when the keys are absent.
    public init(
        fault: Fault,
        target: String? = nil,
        before: Duration = .seconds(60),
        duration: Duration = .seconds(120),
        tolerance: Tolerance = Tolerance()
    ) {
        self.fault = fault
        self.target = target
        self.before = before
        self.duration = duration
        self.tolerance = tolerance
    }
}
