import Glibc
import SlipwaySupervision

// slipway-supervisor: owns one instance's output, log files and exit status, and outlives the controller that
// started it. See `SupervisorArguments` for the command line and `SupervisorRecord` / `ExitRecord` for what it
// leaves behind.

let arguments: SupervisorArguments
do {
    arguments = try SupervisorArguments(parsing: Array(CommandLine.arguments.dropFirst()))
} catch {
    writeStandardError("slipway-supervisor: \(error)\n\(SupervisorArguments.usage)\n")
    exit(2)
}
exit(Supervisor(arguments).run())
