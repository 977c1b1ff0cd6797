import Foundation
import SlipwayTestSupport

/// A `slipway-demo-app` process started from the binary built beside the test bundle.
///
/// Every wait is bounded; ``stop()`` kills the process by its PID if it still runs.
final class DemoAppProcess {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    let launched: ContinuousClock.Instant

    /// Starts the demo app with `arguments` and an environment free of the demo's own variables plus `environment`.
    init(arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = try Self.binary()
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment.filter { name, _ in
            name != "PORT" && !name.hasPrefix("DEMO_") && !name.hasPrefix("SLIPWAY_")
        }
        inherited.merge(environment) { _, new in new }
        process.environment = inherited
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        launched = .now
        try process.run()
    }

    deinit {
        stop()
    }

    var pid: Int32 { process.processIdentifier }

    /// Kills the process by PID if it is still running, and waits briefly for it to be reaped.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline {
            usleep(10_000)
        }
    }

    /// Sends `signal` to the process by its PID.
    func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits until the process exits or `timeout` passes; returns its exit status, or `nil` if it is still running
    /// or was ended by a signal.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard !process.isRunning, process.terminationReason == .exit else { return nil }
        return process.terminationStatus
    }

    /// Waits until the process accepts connections on `port`; returns whether it did before `timeout`.
    func waitUntilAccepting(port: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if LoopbackHTTP.isAccepting(port: port) { return true }
            guard process.isRunning else { return false }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    /// Everything the process wrote to standard output; call only after it exited.
    func standardOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Everything the process wrote to standard error; call only after it exited.
    func standardError() -> String {
        String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The `slipway-demo-app` binary in the build directory that holds the running test binary.
    static func binary() throws -> URL {
        let path = BuiltProducts.path("slipway-demo-app")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "no slipway-demo-app binary at \(path)")
        }
        return URL(fileURLWithPath: path)
    }
}
