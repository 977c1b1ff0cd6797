import NIOCore

/// When the proxy takes an instance out of its version's rotation (outlier ejection), and when it fails a version's
/// requests fast (an open circuit).
public struct OutlierSettings: Sendable, Equatable, Codable {
    /// Failed requests in a row that eject an instance: 5xx answers, refused or failed connections, connections
    /// closed before an answer, and timeouts. 0 turns this rule off.
    public var consecutiveFailures: Int
    /// How often success rates are compared and ejected instances are looked at again.
    public var intervalMs: Int
    /// The first ejection's length; each further ejection of the same instance lasts one more base time.
    public var baseEjectionMs: Int
    /// The longest ejection.
    public var maxEjectionMs: Int
    /// The largest share of a version's instances out at once, in percent; a version whose every instance fails
    /// has them all out, which opens its circuit.
    public var maxEjectedPercent: Int
    /// Requests an instance must have answered in an interval for its success rate to be compared; 0 turns the
    /// success-rate rule off.
    public var successRateMinimumRequests: Int
    /// Percentage points an instance's success rate must fall below its siblings' together to be ejected.
    public var successRateDropPercent: Int
    /// The path an ejected instance is asked (GET) before it takes requests again: 2xx or 3xx lets it back.
    public var probePath: String
    /// The time a probe has to answer.
    public var probeTimeoutMs: Int

    /// Settings with the documented defaults.
    public init(
        consecutiveFailures: Int = 5,
        intervalMs: Int = 1000,
        baseEjectionMs: Int = 10_000,
        maxEjectionMs: Int = 300_000,
        maxEjectedPercent: Int = 50,
        successRateMinimumRequests: Int = 20,
        successRateDropPercent: Int = 30,
        probePath: String = "/",
        probeTimeoutMs: Int = 1000
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.intervalMs = intervalMs
        self.baseEjectionMs = baseEjectionMs
        self.maxEjectionMs = maxEjectionMs
        self.maxEjectedPercent = maxEjectedPercent
        self.successRateMinimumRequests = successRateMinimumRequests
        self.successRateDropPercent = successRateDropPercent
        self.probePath = probePath
        self.probeTimeoutMs = probeTimeoutMs
    }
}

/// When the proxy sends a request again, and how many retries it allows itself.
public struct RetrySettings: Sendable, Equatable, Codable {
    /// What a retry may follow.
    public enum Condition: String, Sendable, Codable, CaseIterable {
        /// The connection to the instance could not be made: nothing was sent, so any request may go again.
        case connectFailure = "connect-failure"
        /// The instance closed the connection before its answer began.
        case reset
        /// The instance did not answer within the per-try timeout.
        case timeout
        /// The instance answered 502, 503 or 504.
        case gatewayError = "gateway-error"
        /// The instance answered any 5xx.
        case serverError = "5xx"
    }

    /// Retries after the first attempt, 0...5; each goes to another instance of the same version when there is one.
    public var attempts: Int
    /// What a retry may follow. Except after a connect failure, only requests that are safe to send twice are
    /// retried: idempotent methods without a body.
    public var on: Set<Condition>
    /// Retries as a share of the requests of the last 10 seconds, in percent ...
    public var budgetPercent: Int
    /// ... plus this many retries per second, so that a quiet app can still retry.
    public var minimumPerSecond: Int
    /// The time one attempt has for its response head before it is given up (and retried, with `timeout`); nil
    /// leaves only the response timeout.
    public var perTryTimeoutMs: Int?

    /// Settings with the documented defaults.
    public init(
        attempts: Int = 2,
        on: Set<Condition> = [.connectFailure, .reset],
        budgetPercent: Int = 20,
        minimumPerSecond: Int = 5,
        perTryTimeoutMs: Int? = nil
    ) {
        self.attempts = attempts
        self.on = on
        self.budgetPercent = budgetPercent
        self.minimumPerSecond = minimumPerSecond
        self.perTryTimeoutMs = perTryTimeoutMs
    }

    /// The per-try timeout as an amount, when there is one.
    var perTryTimeout: TimeAmount? { perTryTimeoutMs.map { .milliseconds(Int64($0)) } }
}
