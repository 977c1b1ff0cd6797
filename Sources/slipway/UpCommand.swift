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

    /// Set on the background process `--detach` starts: it leaves the terminal's session.
    @Flag(help: .hidden)
    var background = false

    func run() async throws {
        let config = try options.load()
        if detach {
            try await BackgroundController.start(config: config, file: options.file, quiet: quiet)
            return
        }
        if background { _ = setsid() }
        var logger = Logger(label: "slipway")
        logger.logLevel = .warning
        let quiet = self.quiet
        let controller: Controller
        do {
            controller = try Controller(
                config: config,
                logger: logger,
                observer: { recorded in
                    // Unbuffered, so the lines reach pipes and log files as they happen.
                    if !quiet { FileHandle.standardOutput.write(Data((EventFormatter.line(recorded) + "\n").utf8)) }
                },
                dataPlane: .process(executable: nil)
            )
        } catch {
            FileHandle.standardErrorWrite(error.description)
            throw ExitCode(ExitStatus.badInput)
        }
        if !quiet {
            let line =
                "slipway: state in \(config.controller.stateDirectory); Ctrl-C stops everything, "
                + "`slipway stop-controller` stops the controller alone\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            if config.controller.token == .generated {
                let file = config.controller.stateDirectory + "/" + TokenSource.generatedFileName
                FileHandle.standardOutput.write(
                    Data("slipway: API token in \(file) (only you can read it; the CLI here reads it too)\n".utf8)
                )
            }
        }
        if config.controller.token == nil {
            FileHandle.standardErrorWrite(
                "warning: controller.token is none: the API and the dashboard at \(config.controller.api) are open "
                    + "to every user of this machine"
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
