import ArgumentParser
import SlipwayDemoService

/// The command line of `slipway-demo-app`: one optional flag per knob, each overriding its environment variable.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway-demo-app",
        abstract: "A small HTTP service with dial-in faults, for exercising zero-downtime releases.",
        discussion: """
            Routes: GET / (identity and request number), GET /healthz, GET /work?ms=N.
            Every flag can also be set by the environment variable named in its help; the flag wins.
            Durations look like 250ms, 2s or 1m30s; a plain number means milliseconds.
            """
    )

    @Option(help: help(.host, "Address to listen on (default 127.0.0.1)."))
    var host: String?

    @Option(help: help(.port, "Port to listen on; required."))
    var port: String?

    @Option(help: help(.app, "Application name (default demo)."))
    var app: String?

    @Option(name: .customLong("version"), help: help(.version, "Application version (default dev)."))
    var appVersion: String?

    @Option(help: help(.instance, "Instance identifier (default pid-<pid>)."))
    var instance: String?

    @Option(help: help(.errorRate, "Share (0...1) of / and /work requests answered 500, spread evenly."))
    var errorRate: String?

    @Option(
        help: help(
            .conversionRate,
            "Share (0...1) of successful / and /work answers that report `X-Slipway-Outcome: converted`, spread evenly."
        )
    )
    var conversionRate: String?

    @Option(help: help(.latency, "Extra latency of every / and /work request."))
    var latency: String?

    @Option(help: help(.slowFirst, "Number of first requests that get --slow-first-latency on top."))
    var slowFirst: String?

    @Option(help: help(.slowFirstLatency, "Extra latency of each of the first --slow-first requests (default 300ms)."))
    var slowFirstLatency: String?

    @Option(help: help(.startupDelay, "Wait this long before listening."))
    var startupDelay: String?

    @Option(help: help(.crashAfter, "Exit with status 3 right after answering this many requests."))
    var crashAfter: String?

    @Flag(help: help(.failHealth, "Answer /healthz with 503."))
    var failHealth = false

    @Option(help: help(.failHealthAfter, "Answer /healthz with 503 once this many requests were answered."))
    var failHealthAfter: String?

    @Option(help: help(.dependency, "A URL / calls before it answers (the service's dependency)."))
    var dependency: String?

    @Option(
        help: help(
            .dependencyTimeout,
            "Answer / without the dependency (a fallback) once it has taken this long; without it, / waits."
        )
    )
    var dependencyTimeout: String?

    /// The options the environment gives, overridden by every flag present.
    ///
    /// A variable whose knob is also set by a flag is ignored, so a flag can stand in for a bad variable.
    func options(environment: [String: String]) throws -> DemoOptions {
        var flags: [(DemoSetting, String)] = [
            (.host, host), (.port, port), (.app, app), (.version, appVersion), (.instance, instance),
            (.errorRate, errorRate), (.conversionRate, conversionRate), (.latency, latency), (.slowFirst, slowFirst),
            (.slowFirstLatency, slowFirstLatency), (.startupDelay, startupDelay), (.crashAfter, crashAfter),
            (.failHealthAfter, failHealthAfter), (.dependency, dependency), (.dependencyTimeout, dependencyTimeout),
        ].compactMap { setting, value in value.map { (setting, $0) } }
        if failHealth {
            flags.append((.failHealth, "true"))
        }
        var environment = environment
        for (setting, _) in flags {
            environment[setting.environmentVariable] = nil
        }
        var options = try DemoOptions.fromEnvironment(environment)
        for (setting, value) in flags {
            try options.set(setting, to: value, from: .flag)
        }
        return options
    }

    private static func help(_ setting: DemoSetting, _ text: String) -> ArgumentHelp {
        let valueName: String? =
            switch setting {
            case .host, .app, .version, .instance, .failHealth: nil
            case .port: "port"
            case .errorRate, .conversionRate: "rate"
            case .latency, .slowFirstLatency, .startupDelay, .dependencyTimeout: "duration"
            case .dependency: "url"
            case .slowFirst, .crashAfter, .failHealthAfter: "n"
            }
        return ArgumentHelp("\(text) Env: \(setting.environmentVariable).", valueName: valueName)
    }
}
