import ArgumentParser
import Foundation
import SlipwayProxy
import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// `slipway upgrade`: replaces the running controller and data plane with this build, under load, without a failed
/// request.
struct UpgradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Replace the running controller and data plane with this slipway build, without a failed request.",
        discussion: """
            Run it with the new slipway. The running controller stops alone (instances keep serving); a new data
            plane takes the listening sockets over from the running one, which finishes its open connections and
            requests in flight before it exits; then a new controller starts in the background and attaches.
            Nothing is stopped when a step fails: the old data plane keeps serving.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Option(help: "How the new controller and data plane write their logs: text or json (as `slipway up` was given).")
    var logFormat: LogFormat = .text

    func run() async throws {
        let config = try options.load()
        let directory = config.controller.stateDirectory
        if let pid = ControllerProcess.runningPid(stateDirectory: directory) {
            guard await ControllerProcess.stop(pid, signal: SIGUSR1, timeout: .seconds(60)) else {
                FileHandle.standardErrorWrite("the controller (pid \(pid)) did not stop within 60s; nothing changed")
                throw ExitCode(ExitStatus.rolloutFailed)
            }
            if !quiet { print("controller (pid \(pid)) stopped; the service keeps serving") }
        }
        do {
            if let outcome = try await DataPlaneUpgrade.run(
                stateDirectory: directory,
                threads: config.controller.proxyThreads,
                logFormat: logFormat,
                tracing: config.controller.tracing.map(TracingExport.init)
            ) {
                if !quiet {
                    print(
                        "data plane: pid \(outcome.oldPid) handed its listeners to pid \(outcome.newPid) "
                            + "(Slipway \(outcome.build))"
                    )
                }
            }
        } catch {
            FileHandle.standardErrorWrite("error: \(error); the running data plane keeps serving")
            throw ExitCode(ExitStatus.rolloutFailed)
        }
        try await BackgroundController.start(config: config, file: options.file, quiet: quiet, logFormat: logFormat)
    }
}
