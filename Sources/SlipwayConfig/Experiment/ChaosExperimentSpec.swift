import SlipwayCore

/// A chaos experiment (`slipway chaos run FILE`), in the structure of Chaos Toolkit's experiments: a steady-state
/// hypothesis of probes with tolerances, a method of actions and probes with pauses, and rollbacks; written in YAML
/// or JSON. Its providers are Slipway's own (faults, kills, the proxy's traffic), HTTP requests and processes.
public struct ChaosExperimentSpec: Sendable, Equatable {
    /// What the experiment is called.
    public var title: String
    /// What it is about.
    public var description: String?
    /// What must hold before and after the method; nil for none.
    public var hypothesis: Hypothesis?
    /// What is done, in order.
    public var method: [Activity]
    /// What undoes it, always run at the end.
    public var rollbacks: [Activity]
    /// When to give up at once: the app's error rate past a bound while the method runs.
    public var safeguard: Safeguard?
    /// The document as written, for the journal.
    public var document: JSONValue
    /// The file it was read from.
    public var file: String

    /// The steady-state hypothesis.
    public struct Hypothesis: Sendable, Equatable {
        /// Its title.
        public var title: String
        /// Probes that must each be within their tolerance.
        public var probes: [Activity]
    }

    /// The method is aborted when `app`'s share of 5xx over the last `window` passes `maxErrorRate`.
    public struct Safeguard: Sendable, Equatable {
        public var app: String
        public var maxErrorRate: Double
        public var window: Duration

        /// Creates a safeguard.
        public init(app: String, maxErrorRate: Double, window: Duration) {
            self.app = app
            self.maxErrorRate = maxErrorRate
            self.window = window
        }
    }

    /// One action or probe.
    public struct Activity: Sendable, Equatable {
        /// `action` or `probe`.
        public enum Kind: String, Sendable, Equatable {
            case action, probe
        }

        public var kind: Kind
        public var name: String
        public var provider: Provider
        /// For a hypothesis probe: what its output must be.
        public var tolerance: Tolerance?
        /// Waits before and after it.
        public var pauseBefore: Duration?
        public var pauseAfter: Duration?
        /// The activity as written, for the journal.
        public var document: JSONValue
    }

    /// What runs an activity.
    public enum Provider: Sendable, Equatable {
        /// An HTTP request; its output is `{"status": …, "headers": {…}, "body": "…"}`.
        case http(url: String, method: String, headers: [String: String], body: String?, timeout: Duration)
        /// A program; its output is `{"status": exit status, "stdout": "…", "stderr": "…"}`.
        case process(path: String, arguments: [String], timeout: Duration)
        /// One of Slipway's functions.
        case slipway(SlipwayFunction)
    }

    /// Slipway's functions an activity may call.
    public enum SlipwayFunction: Sendable, Equatable {
        /// Crash an instance (`SIGKILL` unless `signal`); one of the stable release at random without `instance`.
        case killInstance(app: String, instance: String?, signal: String?)
        /// Freeze an instance for `duration`.
        case hangInstance(app: String, instance: String?, duration: Duration)
        /// Cut a host off for `duration`: its data plane and instances frozen, the controller not reaching it.
        case cutHost(host: String, duration: Duration)
        /// Add a fault to the app's proxy: `fault` holds the fields of `POST /api/v1/apps/{app}/faults`.
        case addFault(app: String, fault: [String: JSONValue])
        /// Remove the faults this experiment added (of `app`, or of every app).
        case removeFaults(app: String?)
        /// Replace every instance of the app, one at a time.
        case restartApp(app: String)
        /// Probe: the app's share of 5xx responses over the last `window`, as the proxy counted them.
        case errorRate(app: String, window: Duration)
        /// Probe: the app's highest p99 latency over the last `window`, in milliseconds, of any version.
        case latency(app: String, window: Duration)
        /// Probe, for the hypothesis: before the method it measures the app's steady state for `window`; after it,
        /// it compares the method's period with that steady state by anytime-valid tests (5xx, latency
        /// distribution, requests slower than the steady state's p99). Its output's `held` is what a tolerance of
        /// `true` judges.
        case steadyState(app: String, window: Duration)

        /// The function's name as written.
        public var name: String {
            switch self {
            case .killInstance: "kill-instance"
            case .hangInstance: "hang-instance"
            case .cutHost: "cut-host"
            case .addFault: "add-fault"
            case .removeFaults: "remove-faults"
            case .restartApp: "restart-app"
            case .errorRate: "error-rate"
            case .latency: "latency"
            case .steadyState: "steady-state"
            }
        }
    }

    /// What a probe's output must be.
    public enum Tolerance: Sendable, Equatable {
        /// Exactly this (a status, an exit status, `true`); for HTTP and process outputs, their `status`.
        case equals(JSONValue)
        /// One of these.
        case oneOf([JSONValue])
        /// A number from `lower` to `upper`, both included.
        case range(lower: Double, upper: Double)
        /// Text matching the pattern somewhere (an HTTP body, a process's standard output).
        case regex(String)
    }
}
