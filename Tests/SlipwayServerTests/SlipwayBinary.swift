import Foundation
import SlipwayTestSupport

/// The built `slipway` executable, run as a user runs it.
enum SlipwayBinary {
    /// How a run ended.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `slipway` with `arguments` to completion (sent `signal` after `seconds`), in a fresh temporary directory
    /// unless `directory` is given, with no `SLIPWAY_*` variable but those of `environment`.
    static func run(
        _ arguments: [String],
        in directory: String? = nil,
        environment: [String: String] = [:],
        seconds: Double = 30,
        signal: Int32 = SIGKILL,
        niceness: Int32 = 0
    ) async throws -> Run {
        let outputs = try makeTemporaryDirectory()
        let process = Process()
        if niceness == 0 {
            process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway"))
            process.arguments = arguments
        } else {
            // At a lower priority, with everything it starts.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            process.arguments = ["-n", String(niceness), BuiltProducts.path("slipway")] + arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: directory ?? outputs)
        // Nor a CI system's: they name the release and the user.
        let inherited = ProcessInfo.processInfo.environment.filter { name, _ in
            !["SLIPWAY_", "GITHUB_", "GITLAB_", "CI_"].contains { name.hasPrefix($0) }
        }
        process.environment = inherited.merging(environment) { $1 }
        for name in ["out", "err"] {
            _ = FileManager.default.createFile(atPath: "\(outputs)/\(name)", contents: nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputs + "/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: outputs + "/err"))
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outputs + "/out", encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: outputs + "/err", encoding: .utf8)) ?? ""
        )
    }
}
