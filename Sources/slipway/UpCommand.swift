import ArgumentParser
import Foundation
import Logging
import SlipwayConfig
import SlipwayServer
import SlipwayStore

#if canImport(Glibc)
import Glibc
#endif

/// `slipway up -f FILE`: runs the controller, attached to the state directory's data plane (started when none runs).
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the controller: start (or take over) the data plane and every app's instances.",
        discussion: """
            The data plane and the instances run in processes of their own and outlive the controller: a controller
            that is killed, or stopped with `slipway stop-controller`, leaves the service serving, and the next
            `slipway up` takes it over. SIGINT or SIGTERM stops everything gracefully (every instance, then the data
            plane) and exits 0; so does `slipway down`. With --detach the controller runs in the background and
            writes to controller.log in the state directory.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "Run the controller in the background; return once its API answers.")
    var detach = false

    @Option(help: "text (for people) or json (one object per line with stable keys, for log pipelines).")
    var logFormat: LogFormat = .text

    /// Set on the background process `--detach` starts: it leaves the terminal's session.
    @Flag(help: .hidden)
    var background = false

    func run() async throws {
        let config = try options.load()
        if detach {
            try await BackgroundController.start(config: config, file: options.file, quiet: quiet, logFormat: logFormat)
            return
        }
        if background { _ = setsid() }
        let format = logFormat
        if format == .json {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: .warning) }
        }
        var logger = Logger(label: "slipway")
        logger.logLevel = .warning
        let quiet = self.quiet
        /// A line for people, or as a JSON log line.
        func say(_ text: String, level: Logger.Level = .notice, error: Bool = false) {
            let line =
                format == .json
                ? JSONLines.line(
                    time: Date(),
                    level: level,
                    label: "slipway",
                    message: text,
                    metadata: [:],
                    source: "slipway"
                )
                : text
            if error {
                FileHandle.standardErrorWrite(line)
            } else {
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        }
        let controller: Controller
        do {
            controller = try Controller(
                config: config,
                logger: logger,
                observer: { recorded in
                    // Unbuffered, so the lines reach pipes and log files as they happen.
                    guard !quiet else { return }
                    let line = format == .json ? JSONLines.line(recorded) : EventFormatter.line(recorded)
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                },
                dataPlane: .process(executable: nil),
                logFormat: format
            )
        } catch {
            FileHandle.standardErrorWrite(error.description)
            throw ExitCode(ExitStatus.badInput)
        }
        if !quiet {
            say(
                "slipway: state in \(config.controller.stateDirectory); Ctrl-C stops everything, "
                    + "`slipway stop-controller` stops the controller alone"
            )
            if config.controller.token == .generated {
                let file = config.controller.stateDirectory + "/" + TokenSource.generatedFileName
                say("slipway: API token in \(file) (only you can read it; the CLI here reads it too)")
            }
        }
        if config.controller.token == nil {
            say(
                "warning: controller.token is none: the API and the dashboard at \(config.controller.api) are open "
                    + "to every user of this machine",
                level: .warning,
                error: true
            )
        }
        do {
            try await controller.runUntilSignalled()
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
