import ArgumentParser
import Foundation
import SlipwayServer

/// `slipway windows APP`: whether a deploy is allowed now, the next deploy windows, and the quietest hours.
struct WindowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "windows",
        abstract: "Show an app's deploy windows: allowed now or not, the next windows, the quietest hours.",
        discussion: """
            The quietest hours come from the traffic the proxy recorded over the last four weeks, in the windows' \
            time zone, among the hours the windows allow. Exit codes: 0 shown, 2 no such app, 4 controller \
            unreachable or unauthorized.
            """
    )

    @Argument(help: "The app (APP@ENV, or APP with --environment, in a configuration with environments).")
    var app: String

    @OptionGroup var target: EnvironmentOption

    @OptionGroup var controller: ControllerOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let name = target.qualified(app)
        try await ControllerCall.run(controller) { client throws(ControllerFailure) in
            let view = try await client.get(ControllerClient.path(app: name, "windows"), as: WindowsView.self)
            if json {
                try ControllerCall.printJSON(view)
            } else {
                for line in Self.lines(view) { ControllerCall.printLine(line) }
            }
            return ExitStatus.success
        }
    }

    /// The view for people.
    static func lines(_ view: WindowsView) -> [String] {
        var lines: [String] = []
        if view.rules.isEmpty {
            lines.append("\(view.app): deploys are allowed at any time (no deploy windows)")
        } else if view.allowedNow {
            lines.append("\(view.app): deploys are allowed now")
        } else {
            lines.append("\(view.app): deploys are NOT allowed now: \(view.reasons.joined(separator: "; "))")
            lines.append("next allowed: \(view.nextAllowedText ?? "no allowed time within 400 days")")
        }
        if !view.rules.isEmpty {
            lines.append("rules:")
            lines += view.rules.map { "  \($0)" }
            lines.append("next windows (\(view.timeZone)):")
            lines += view.openings.isEmpty ? ["  none within two weeks"] : view.openings.map { "  \($0.text)" }
        }
        if view.quietHours.isEmpty {
            lines.append("quietest hours: not enough recorded traffic yet (\(view.hoursRecorded) hours)")
        } else {
            lines.append("quietest hours (\(view.timeZone), from \(view.hoursRecorded) recorded hours):")
            for hour in view.quietHours {
                let average = String(format: "%.0f", hour.averageRequests)
                lines.append("  \(hour.text)  \(average) requests on average (\(hour.samples) observed)")
            }
        }
        return lines
    }
}
