#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the demo service can be told: where it listens, who it says it is, and the faults it injects.
///
/// Build it with ``fromEnvironment(_:)`` and then let command-line flags override single knobs with
/// ``set(_:to:from:)``; every knob has both a flag and an environment variable (see ``DemoSetting``).
public struct DemoOptions: Sendable, Equatable {
    /// Address to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on (0 lets the system pick one); `nil` until given, and required to run.
    public var port: Int?
    /// Application name reported by `GET /`.
    public var app: String = "demo"
    /// Version reported by `GET /` and `GET /work`.
    public var version: String = "dev"
    /// Instance identifier reported by `GET /` and `GET /work`.
    public var instance: String = "pid-\(getpid())"
    /// Share (0...1) of counted requests answered with 500, spread evenly (see ``FaultSchedule``).
    public var errorRate: Double = 0
    /// Share (0...1) of counted requests whose answer reports the outcome `converted` to the proxy
    /// (`X-Slipway-Outcome: converted`), spread evenly like ``errorRate`` but apart from the failures (a request
    /// picked for both fails and does not convert), for A/B tests.
    public var conversionRate: Double = 0
    /// Extra latency added to every counted request.
    public var latency: Duration = .zero
    /// How many of the first counted requests get ``slowFirstLatency`` on top of ``latency``.
    public var slowFirst: Int = 0
    /// Extra latency of each of the first ``slowFirst`` counted requests.
    public var slowFirstLatency: Duration = .milliseconds(300)
    /// How long to wait before listening.
    public var startupDelay: Duration = .zero
    /// Exit with status 3 right after answering this counted request; `nil` never crashes.
    public var crashAfter: Int?
    /// Answer `GET /healthz` with 503 from the start.
    public var failHealth: Bool = false
    /// Answer `GET /healthz` with 503 once this many requests have been counted; `nil` never turns unhealthy.
    public var failHealthAfter: Int?
    /// A URL `GET /` calls (GET) before it answers: the service's dependency. `nil` calls nothing.
    public var dependency: String?
    /// How long `GET /` waits for the dependency before it answers without it (200, a fallback); `nil` waits as long
    /// as the dependency takes (up to a minute) — a service that has lost its timeout.
    public var dependencyTimeout: Duration?

    /// Options with every knob at its default: no faults, and no port yet.
    public init() {}

    /// Options read from environment variables, each knob at its default where its variable is unset or empty.
    ///
    /// - Throws: ``DemoOptionError/invalidValue(setting:source:value:)`` naming the first variable that holds a
    ///   value its knob cannot take.
    public static func fromEnvironment(_ env: [String: String]) throws -> DemoOptions {
        var options = DemoOptions()
        for setting in DemoSetting.allCases {
            guard let value = env[setting.environmentVariable], !value.isEmpty else { continue }
            try options.set(setting, to: value, from: .environment)
        }
        return options
    }

    /// Sets one knob from its textual value, as given by a flag or an environment variable.
    ///
    /// - Throws: ``DemoOptionError/invalidValue(setting:source:value:)`` when `text` is not a valid value; the
    ///   options are then left unchanged.
    public mutating func set(_ setting: DemoSetting, to text: String, from source: DemoSettingSource) throws {
        let invalid = DemoOptionError.invalidValue(setting: setting, source: source, value: text)
        switch setting {
        case .host:
            host = try Self.nonEmpty(text, or: invalid)
        case .port:
            guard let value = Int(text), (0...65_535).contains(value) else { throw invalid }
            port = value
        case .app:
            app = try Self.nonEmpty(text, or: invalid)
        case .version:
            version = try Self.nonEmpty(text, or: invalid)
        case .instance:
            instance = try Self.nonEmpty(text, or: invalid)
        case .errorRate:
            guard let value = Double(text), value.isFinite, (0...1).contains(value) else { throw invalid }
            errorRate = value
        case .conversionRate:
            guard let value = Double(text), value.isFinite, (0...1).contains(value) else { throw invalid }
            conversionRate = value
        case .latency:
            latency = try Self.duration(text, or: invalid)
        case .slowFirst:
            guard let value = Int(text), value >= 0 else { throw invalid }
            slowFirst = value
        case .slowFirstLatency:
            slowFirstLatency = try Self.duration(text, or: invalid)
        case .startupDelay:
            startupDelay = try Self.duration(text, or: invalid)
        case .crashAfter:
            guard let value = Int(text), value >= 1 else { throw invalid }
            crashAfter = value
        case .failHealth:
            switch text.lowercased() {
            case "1", "true", "yes", "on": failHealth = true
            case "0", "false", "no", "off": failHealth = false
            default: throw invalid
            }
        case .failHealthAfter:
            guard let value = Int(text), value >= 1 else { throw invalid }
            failHealthAfter = value
        case .dependency:
            guard text.hasPrefix("http://"), text.count > 7, !text.contains(" ") else { throw invalid }
            dependency = text
        case .dependencyTimeout:
            let value = try Self.duration(text, or: invalid)
            guard value > .zero else { throw invalid }
            dependencyTimeout = value
        }
    }

    private static func nonEmpty(_ text: String, or error: DemoOptionError) throws -> String {
        guard !text.isEmpty else { throw error }
        return text
    }

    private static func duration(_ text: String, or error: DemoOptionError) throws -> Duration {
        guard let value = DurationParser.parse(text) else { throw error }
        return value
    }
}
