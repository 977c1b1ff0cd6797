import ArgumentParser
import Foundation
import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// `slipway stop-controller`: stops the controller alone; the data plane and the instances keep serving.
struct StopControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop-controller",
        abstract: "Stop the controller alone: the data plane and every instance keep serving.",
        discussion: """
            For restarting or upgrading Slipway without taking the service down: `slipway up` later attaches to
            what still runs. Exits 4 when no controller runs for the state directory.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let directory = try options.load().controller.stateDirectory
        guard let pid = ControllerProcess.runningPid(stateDirectory: directory) else {
            FileHandle.standardErrorWrite("no controller runs with state directory \(directory)")
            throw ExitCode(ExitStatus.unreachable)
        }
        guard await ControllerProcess.stop(pid, signal: SIGUSR1, timeout: .seconds(60)) else {
            FileHandle.standardErrorWrite("the controller (pid \(pid)) did not stop within 60s")
            throw ExitCode(ExitStatus.rolloutFailed)
        }
        print("controller (pid \(pid)) stopped; the data plane and the instances keep serving")
    }
}
