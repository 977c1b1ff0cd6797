import ArgumentParser
import Foundation
import SlipwayServer

/// `slipway status APP --watch`: follows the controller's event stream and redraws a compact view of the app on
/// every event (and every two seconds, for the traffic figures).
enum StatusWatch {
    /// An app as `GET /api/v1/apps/{app}` describes it.
    struct AppView: Codable, Equatable {
        struct Instance: Codable, Equatable {
            var id: String
            var version: String
            var state: String
        }

        var name: String
        var listen: String?
        var stable: String?
        var desiredInstances: Int?
        var instances: [Instance]
        var weights: [String: Double]
        var rollout: RolloutSummary?
        var lastDecision: String?
    }

    /// The app's traffic as `GET /api/v1/apps/{app}/metrics` describes it.
    struct Metrics: Codable, Equatable {
        struct Figures: Codable, Equatable {
            var rps: Double
            var errorRate: Double
            var p99Ms: Double?
        }

        struct Point: Codable, Equatable {
            var versions: [String: Figures]
        }

        var points: [Point]
    }

    /// Draws the view when it changed; one at a time.
    actor Screen {
        let client: ControllerClient
        let app: String
        let json: Bool
        let interactive: Bool
        private var lastDrawn = ""

        init(client: ControllerClient, app: String, json: Bool) {
            self.client = client
            self.app = app
            self.json = json
            self.interactive = isatty(STDOUT_FILENO) == 1 && !json
        }

        func draw() async throws(ControllerFailure) {
            let base = ControllerClient.path(app: app, "")
            let view = try await client.get(String(base.dropLast()), as: AppView.self)
            let metrics = try? await client.get(base + "metrics?seconds=10", as: Metrics.self)
            let text: String
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                text = String(decoding: (try? encoder.encode(view)) ?? Data(), as: UTF8.self)
            } else {
                text = StatusWatch.render(view, metrics: metrics)
            }
            guard text != lastDrawn else { return }
            lastDrawn = text
            let output = interactive ? "\u{1B}[H\u{1B}[2J" + text + "\n" : text + "\n"
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }

    /// Watches until interrupted; a controller that cannot be reached (or refuses) ends it with exit 4.
    static func run(app: String, endpoint: ControllerEndpoint, json: Bool) async throws {
        try await ControllerClient.with(endpoint) { client in
            let screen = Screen(client: client, app: app, json: json)
            let query = app.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? app
            let streamPath = "/api/v1/stream?app=\(query)"
            var lastEventID: String?
            do {
                try await screen.draw()
                // Traffic figures move without events: redraw every two seconds as well.
                let ticker = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(2))
                        try? await screen.draw()
                    }
                }
                defer { ticker.cancel() }
                while !Task.isCancelled {
                    try await client.follow(streamPath, lastEventID: lastEventID) { id in
                        if let id { lastEventID = id }
                        try? await screen.draw()
                    }
                    // The stream ended (the controller restarts, or the connection broke): check it still answers.
                    try await Task.sleep(for: .milliseconds(500))
                    try await screen.draw()
                }
            } catch let failure as ControllerFailure {
                FileHandle.standardErrorWrite("error: \(failure.message)")
                throw ExitCode(failure.status)
            }
        }
    }

    /// The compact view: a weight bar per version with its traffic, the instances, the step and the last decision.
    static func render(_ view: AppView, metrics: Metrics?, width: Int = 30) -> String {
        var lines: [String] = []
        var head = "\(view.name)"
        if let stable = view.stable { head += "  stable \(stable)" }
        if let listen = view.listen { head += "  on \(listen)" }
        let healthy = view.instances.filter { $0.state == "healthy" }.count
        head += "  \(healthy)/\(view.desiredInstances.map(String.init) ?? "?") healthy"
        lines.append(head)
        let latest = metrics?.points.last?.versions ?? [:]
        let versions = Set(view.weights.keys).union(latest.keys).sorted()
        for version in versions {
            let percent = view.weights[version] ?? 0
            let filled = Int((percent / 100 * Double(width)).rounded())
            let bar =
                String(repeating: "█", count: max(0, min(width, filled)))
                + String(repeating: "░", count: max(0, width - filled))
            var line =
                "  \(version.padding(toLength: 10, withPad: " ", startingAt: 0)) \(bar) "
                + String(format: "%5.1f%%", percent)
            if let figures = latest[version] {
                line += String(format: "  %7.1f req/s  err %5.2f%%", figures.rps, figures.errorRate * 100)
                line += figures.p99Ms.map { String(format: "  p99 %.0fms", $0) } ?? "  p99 -"
            }
            lines.append(line)
        }
        if !view.instances.isEmpty {
            lines.append(
                "  instances: " + view.instances.map { "\($0.id) \($0.version) \($0.state)" }.joined(separator: " · ")
            )
        }
        if let rollout = view.rollout {
            let step =
                rollout.isFinished
                ? "" : ", step \(min(rollout.step + 1, rollout.steps))/\(rollout.steps): \(rollout.stepDescription)"
            lines.append(
                "  rollout #\(rollout.rollout) \(rollout.from) → \(rollout.to) (\(rollout.strategy)): \(rollout.state)\(step)"
            )
            if !rollout.isFinished, let reason = rollout.reason { lines.append("  waiting: \(reason)") }
        }
        if let decision = view.lastDecision { lines.append("  last decision: \(decision)") }
        return lines.joined(separator: "\n")
    }
}
