import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import SlipwayConfig
import SlipwayCore
import SlipwayEngine
import SlipwayPlatform
import SlipwayStore
import Synchronization

/// `slipway demo`: everything on this machine, on free loopback ports. The demo app runs 1.0.0 on three instances
/// under steady load, answering 500 to 2% of requests as real services do now and then; 2.0.0, no worse, goes out
/// as a canary and is promoted; 3.0.0, which answers 500 six times as often, goes out and is rolled back by the
/// comparison with the stable version, which a threshold at the team's level would not have caught. The tour prints
/// what happens as it happens and says at the end whether the story happened as told.
public enum DemoTour {
    /// How the tour went.
    public struct Outcome: Sendable {
        /// Whether every chapter ended as told.
        public var told: Bool
        /// What did not happen as told.
        public var problems: [String]
    }

    /// The share of requests every release answers with 500, and the share 3.0.0 does.
    static let baselineErrorRate = "0.02"
    static let faultyErrorRate = "0.12"

    /// Runs the tour, writing lines to `print`.
    public static func run(print: @escaping @Sendable (String) -> Void) async throws -> Outcome {
        let directory = try temporaryDirectory()
        let apiPort = try FreePort.pick()
        let yaml = config(apiPort: apiPort)
        let file = directory + "/slipway.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(file: file)
        let began = Date()
        var logger = Logger(label: "slipway.demo")
        logger.logLevel = .error
        let controller = try Controller(
            config: config,
            logger: logger,
            observer: { recorded in
                if let line = DemoNarration.line(for: recorded, since: began) { print(line) }
            },
            dataPlane: .process(executable: nil)
        )
        // Whatever ends the tour early (Ctrl-C, a closed terminal, a reader gone), the controller stops what it started.
        let group = ServiceGroup(
            services: [controller],
            gracefulShutdownSignals: [.sigint, .sigterm, .sighup],
            logger: logger
        )
        // Set once the controller stopped: a signal ends the tour there rather than at its waits' timeouts.
        let stopped = StopFlag()
        let running = Task {
            defer { stopped.set() }
            try await group.run()
        }
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        var problems: [String] = []
        // Stopped however the tour ends: a load still running would keep the HTTP client from shutting down.
        var started: DemoLoad?
        do {
            print("Slipway demo: the app `shop` runs slipway-demo-app; state and logs in \(directory)")
            try await waitFor("3 healthy instances of 1.0.0", timeout: .seconds(30), unless: stopped) {
                await controller.routes(of: "shop")?.instanceIDs.count == 3
            }
            let port = controller.port(of: "shop") ?? 0
            print("Users reach it at http://127.0.0.1:\(port)/")
            print(
                "Watch it live on the dashboard: http://127.0.0.1:\(apiPort)/ (sign in with the token in "
                    + "\(config.controller.stateDirectory)/\(TokenSource.generatedFileName); Prometheus metrics: /metrics)"
            )
            print("Steady load: about 200 requests per second from 8 clients.\n")
            let load = DemoLoad(client: client, port: port, rate: 200, loops: 8)
            started = load
            try await Task.sleep(for: .seconds(2))

            print("Chapter 1 — 2.0.0 is healthy: it goes out as a canary and is promoted.")
            let before1 = load.snapshot
            let first = try await rollout(
                controller,
                version: "2.0.0",
                env: [:],
                reason: "new checkout page",
                unless: stopped
            )
            report(load, since: before1, print: print)
            if first.state != "promoted" { problems.append("2.0.0 ended \(first.state), not promoted") }
            let served = load.snapshot.versions["2.0.0", default: .init()]
            if served.errors * 100 > served.requests * 4 {
                problems.append("2.0.0 answered \(served.errors) errors to \(served.requests) requests")
            }

            print(
                "\nChapter 2 — 3.0.0 answers 500 to 12% of requests, six times as often as 2.0.0: the comparison with"
                    + " 2.0.0 rolls it back on its own (the team's threshold, successRate >= 80%, would let it pass)."
            )
            let before2 = load.snapshot
            let second = try await rollout(
                controller,
                version: "3.0.0",
                env: ["DEMO_ERROR_RATE": faultyErrorRate],
                reason: "faster search (with a bug)",
                unless: stopped
            )
            report(load, since: before2, print: print)
            if second.state != "rolledBack" { problems.append("3.0.0 ended \(second.state), not rolled back") }
            if let reason = second.reason { print("  decision: \(reason)") }
            if let evidence = comparisonEvidence(controller.log, rollout: second.rollout) {
                print("  evidence: \(evidence)")
            } else {
                problems.append("the rollback of 3.0.0 carries no comparison evidence")
            }
            await load.stop()
            let final = try await controller.rollout(app: "shop")
            let stable = final?.state == "rolledBack" ? final?.from : final?.to
            if stable != "2.0.0" { problems.append("the stable release is \(stable ?? "unknown"), not 2.0.0") }
            if load.snapshot.unanswered > 0 {
                problems.append("\(load.snapshot.unanswered) requests got no answer")
            }
        } catch {
            problems.append(String(describing: error))
        }
        await started?.stop()
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        try? await client.shutdown()
        if problems.isEmpty {
            print("\nThe story happened as told: 2.0.0 promoted, 3.0.0 rolled back automatically, 2.0.0 serves.")
            print("Every fact is in the event log: slipway history shop --state-dir \(directory)/state")
        } else {
            print("\nThe story did not happen as told:")
            for problem in problems { print("  - \(problem)") }
        }
        return Outcome(told: problems.isEmpty, problems: problems)
    }

    private static func rollout(
        _ controller: Controller,
        version: String,
        env: [String: String],
        reason: String,
        unless stopped: StopFlag
    ) async throws -> RolloutSummary {
        let started = try await controller.deploy(
            app: "shop",
            DeployRequest(version: version, env: env, by: "demo", reason: reason)
        )
        var summary = started
        try await waitFor("rollout #\(started.rollout) to end", timeout: .seconds(120), unless: stopped) {
            summary = (try? await controller.rollout(app: "shop")) ?? summary
            return summary.rollout == started.rollout && summary.isFinished
        }
        return summary
    }

    /// The comparison's summary in the decision that rolled `rollout` back, if the comparison made it.
    private static func comparisonEvidence(_ log: EventLog, rollout: Int) -> String? {
        let events = (try? log.events(app: "shop", limit: .max)) ?? []
        let decision = events.last {
            $0.kind == .analysisJudged && $0.fields["analysis"] == "compare"
                && $0.fields["rollout"]?.intValue == rollout
        }
        return decision?.fields["summary"]?.stringValue
    }

    private static func report(
        _ load: DemoLoad,
        since before: (versions: [String: DemoLoad.Tally], unanswered: Int),
        print: @Sendable (String) -> Void
    ) {
        let now = load.snapshot
        for version in now.versions.keys.sorted() {
            let total = now.versions[version, default: .init()]
            let earlier = before.versions[version, default: .init()]
            let requests = total.requests - earlier.requests
            let errors = total.errors - earlier.errors
            guard requests > 0 else { continue }
            let rate = Double(errors) * 100 / Double(requests)
            print("  \(version): \(requests) requests, \(errors) errors (\(String(format: "%.1f", rate))%)")
        }
    }

    /// Polls `condition` until it holds; throws at `timeout`, or as soon as the controller has stopped.
    private static func waitFor(
        _ what: String,
        timeout: Duration,
        unless stopped: StopFlag,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stopped.isSet { throw DemoTimeout(description: "the controller stopped while waiting for \(what)") }
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoTimeout(description: "timed out after \(DurationText.format(timeout)) waiting for \(what)")
    }

    struct DemoTimeout: Error, CustomStringConvertible {
        var description: String
    }

    /// A flag one task sets and others read.
    final class StopFlag: Sendable {
        private let value = Mutex(false)

        var isSet: Bool { value.withLock { $0 } }

        func set() { value.withLock { $0 = true } }
    }

    private static func temporaryDirectory() throws -> String {
        var base = NSTemporaryDirectory()
        while base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/slipway-demo-XXXXXX").utf8CString)
        guard let path = mkdtemp(&template) else {
            throw DemoTimeout(description: "cannot create a temporary directory: errno \(errno)")
        }
        return String(cString: path)
    }

    static func config(apiPort: Int) -> String {
        """
        controller:
          api: 127.0.0.1:\(apiPort)
          stateDir: state
        apps:
          - name: shop
            listen: 127.0.0.1:0
            instances: 3
            version: "1.0.0"
            run:
              command: [slipway-demo-app, --port, "{port}", --app, shop]
              env: { DEMO_ERROR_RATE: "\(baselineErrorRate)" }
              stopGracePeriod: 5s
            health: { path: /healthz, interval: 250ms, timeout: 200ms, startDeadline: 15s }
            strategy:
              progressDeadline: 1m
              canary:
                steps:
                  - weight: 10
                  - pause: 3s
                  - analysis: { windows: 3 }
                  - weight: 50
                  - pause: 3s
                  - analysis: { windows: 2 }
            analysis:
              interval: 1s
              minRequests: 10
              checks: ["p99 <= 500ms"]
              failFast: ["successRate >= 80%"]
              compare: [{ metric: errorRate, minRequests: 150 }]
        """
    }
}
