/// One knob of the demo service, with the command-line flag and the environment variable that set it.
public enum DemoSetting: String, CaseIterable, Sendable {
    case host
    case port
    case app
    case version
    case instance
    case errorRate
    case conversionRate
    case latency
    case slowFirst
    case slowFirstLatency
    case startupDelay
    case crashAfter
    case failHealth
    case failHealthAfter
    case dependency
    case dependencyTimeout

    /// The long command-line flag, with its leading dashes, e.g. `--error-rate`.
    public var flag: String {
        switch self {
        case .host: "--host"
        case .port: "--port"
        case .app: "--app"
        case .version: "--version"
        case .instance: "--instance"
        case .errorRate: "--error-rate"
        case .conversionRate: "--conversion-rate"
        case .latency: "--latency"
        case .slowFirst: "--slow-first"
        case .slowFirstLatency: "--slow-first-latency"
        case .startupDelay: "--startup-delay"
        case .crashAfter: "--crash-after"
        case .failHealth: "--fail-health"
        case .failHealthAfter: "--fail-health-after"
        case .dependency: "--dependency"
        case .dependencyTimeout: "--dependency-timeout"
        }
    }

    /// The environment variable that sets this knob when its flag is absent.
    ///
    /// `PORT`, `SLIPWAY_APP`, `SLIPWAY_VERSION` and `SLIPWAY_INSTANCE` are the variables the Slipway platform sets
    /// for every instance it starts; the fault knobs use a `DEMO_` prefix.
    public var environmentVariable: String {
        switch self {
        case .host: "DEMO_HOST"
        case .port: "PORT"
        case .app: "SLIPWAY_APP"
        case .version: "SLIPWAY_VERSION"
        case .instance: "SLIPWAY_INSTANCE"
        case .errorRate: "DEMO_ERROR_RATE"
        case .conversionRate: "DEMO_CONVERSION_RATE"
        case .latency: "DEMO_LATENCY"
        case .slowFirst: "DEMO_SLOW_FIRST"
        case .slowFirstLatency: "DEMO_SLOW_FIRST_LATENCY"
        case .startupDelay: "DEMO_STARTUP_DELAY"
        case .crashAfter: "DEMO_CRASH_AFTER"
        case .failHealth: "DEMO_FAIL_HEALTH"
        case .failHealthAfter: "DEMO_FAIL_HEALTH_AFTER"
        case .dependency: "DEMO_DEPENDENCY"
        case .dependencyTimeout: "DEMO_DEPENDENCY_TIMEOUT"
        }
    }

    /// What a valid value looks like, as used in error messages.
    public var expectation: String {
        switch self {
        case .host: "a non-empty host name or address"
        case .port: "a port number from 0 to 65535"
        case .app, .version, .instance: "a non-empty string"
        case .errorRate, .conversionRate: "a number from 0 to 1"
        case .latency, .slowFirstLatency, .startupDelay:
            "a duration such as 250ms, 2s or 1m30s (a plain number means milliseconds), at most 24h"
        case .slowFirst: "a whole number of requests, 0 or more"
        case .crashAfter, .failHealthAfter: "a whole number of requests, 1 or more"
        case .failHealth: "1, true, yes or on to enable; 0, false, no or off to disable"
        case .dependency: "an http:// URL such as http://127.0.0.1:9000/items"
        case .dependencyTimeout:
            "a duration such as 100ms or 2s (a plain number means milliseconds), more than 0 and at most 24h"
        }
    }
}

/// Where a setting's value came from; error messages name the flag or the environment variable accordingly.
public enum DemoSettingSource: Sendable, Equatable {
    /// A command-line flag.
    case flag
    /// An environment variable.
    case environment
}
