import ArgumentParser
import Foundation
import Logging
import SlipwayConfig
import SlipwayServer
import SlipwayStore

/// `slipway up -f FILE`: runs the controller in the foreground until SIGINT or SIGTERM.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the controller in the foreground: start and supervise every app's instances.",
        discussion: "SIGINT or SIGTERM stops every instance gracefully, then exits 0."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func run() async throws {
        let config = try options.load()
        var logger = Logger(label: "slipway")
        logger.logLevel = .warning
        let quiet = self.quiet
        let controller: Controller
        do {
            controller = try Controller(config: config, logger: logger) { recorded in
                // Unbuffered, so the lines reach pipes and log files as they happen.
                if !quiet { FileHandle.standardOutput.write(Data((EventFormatter.line(recorded) + "\n").utf8)) }
            }
        } catch {
            FileHandle.standardErrorWrite(error.description)
            throw ExitCode(ExitStatus.badInput)
        }
        if !quiet {
            let line = "slipway: state in \(config.controller.stateDirectory); press Ctrl-C to stop\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await controller.runUntilSignalled()
    }
}
