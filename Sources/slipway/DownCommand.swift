import ArgumentParser
import Foundation
import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// `slipway down`: stops everything of the state directory gracefully: controller, instances, data plane.
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop everything gracefully: the controller, every instance and the data plane.",
        discussion: """
            With a controller running, it is asked to stop (as Ctrl-C would). Without one, what an earlier
            controller left serving is stopped here, and each instance's end is recorded in the event log.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        let directory = config.controller.stateDirectory
        if let pid = ControllerProcess.runningPid(stateDirectory: directory) {
            guard await ControllerProcess.stop(pid, signal: SIGTERM, timeout: .seconds(120)) else {
                FileHandle.standardErrorWrite("the controller (pid \(pid)) did not stop within 120s")
                throw ExitCode(ExitStatus.rolloutFailed)
            }
            print("controller (pid \(pid)) stopped with its instances and data plane")
            return
        }
        let report: Teardown.Report
        do {
            report = try await Teardown.run(config)
        } catch {
            FileHandle.standardErrorWrite("error: \(error)")
            throw ExitCode(ExitStatus.rolloutFailed)
        }
        for instance in report.instances { print("stopped \(instance.id) (\(instance.status))") }
        if let pid = report.dataPlane { print("stopped the data plane (pid \(pid))") }
        for (host, pid) in report.hostDataPlanes { print("stopped the data plane of \(host) (pid \(pid))") }
        for problem in report.problems { FileHandle.standardErrorWrite("slipway down: \(problem)") }
        if report.instances.isEmpty, report.dataPlane == nil, report.hostDataPlanes.isEmpty, report.problems.isEmpty {
            print("nothing runs for \(directory)")
        }
        if !report.problems.isEmpty { throw ExitCode(ExitStatus.unreachable) }
    }
}
