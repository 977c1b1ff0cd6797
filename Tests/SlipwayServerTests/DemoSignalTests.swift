import Foundation
import SlipwayTestSupport
import Synchronization
import Testing

/// `slipway demo` ended early — its terminal closed (SIGHUP), its reader gone (`slipway demo | head`) — leaves
/// nothing it started running.
@Suite(.serialized) struct DemoSignalTests {
    /// A demo running with its standard output in a pipe that the test reads.
    final class RunningDemo: Sendable {
        let process: Process
        let pipe: Pipe
        private let text = Mutex("")

        /// `slipway demo`, or with `throughHead` `slipway demo | head -n LINES` run by the shell, as a user would.
        init(throughHead lines: Int? = nil) throws {
            process = Process()
            pipe = Pipe()
            let slipway = BuiltProducts.path("slipway")
            if let lines {
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "'\(slipway)' demo | head -n \(lines)"]
            } else {
                process.executableURL = URL(fileURLWithPath: slipway)
                process.arguments = ["demo"]
            }
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLIPWAY_") }
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            // `read` returns what has come, where `FileHandle.read(upToCount:)` waits for the whole count.
            let descriptor = pipe.fileHandleForReading.fileDescriptor
            Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                    guard count > 0 else { return }
                    let chunk = String(decoding: buffer[..<count], as: UTF8.self)
                    text.withLock { $0 += chunk }
                    if text.withLock({ $0.contains("Users reach it at") }) { return }
                }
            }.start()
        }

        var output: String { text.withLock { $0 } }

        /// The state directory the demo named in its first line.
        var directory: String? {
            guard let range = output.range(of: "state and logs in ") else { return nil }
            let rest = output[range.upperBound...]
            return String(rest.prefix { !$0.isWhitespace })
        }

        /// Waits until the demo's instances serve, then returns its state directory.
        func serving() async throws -> String {
            try await waitUntil("the demo's instances serve", timeout: .seconds(60)) {
                output.contains("Users reach it at")
            }
            return try #require(directory)
        }

        /// Waits (bounded) for the process to end.
        func ended(within seconds: Double) async throws {
            try await waitUntil("slipway demo ends", timeout: .seconds(seconds)) { !process.isRunning }
            process.waitUntilExit()
        }

        /// Stops it, if a failed expectation left it running.
        func kill() {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Processes whose command line names `directory` (the data plane and the instances' supervisors do).
    static func processes(naming directory: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            commandLine(of: pid).contains(directory)
        }
    }

    /// A process's command line, its arguments joined by NUL; empty once it is gone. (A /proc file says it is
    /// empty, so it is read to its end with `read`.)
    static func commandLine(of pid: Int32) -> String {
        let descriptor = open("/proc/\(pid)/cmdline", O_RDONLY)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits until nothing the demo started runs; what is left is stopped and reported.
    static func expectNothingLeft(of directory: String) async throws {
        var left: [Int32] = processes(naming: directory)
        let deadline = ContinuousClock.now + .seconds(15)
        while !left.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            left = processes(naming: directory)
        }
        #expect(left.isEmpty, "left running: \(left)")
        for pid in left { kill(pid, SIGKILL) }
    }

    @Test func aClosedTerminalStopsEverythingTheDemoStarted() async throws {
        let demo = try RunningDemo()
        defer { demo.kill() }
        let directory = try await demo.serving()
        #expect(
            !Self.processes(naming: directory).isEmpty,
            "the data plane and the supervisors name \(directory)"
        )
        kill(demo.process.processIdentifier, SIGHUP)
        try await demo.ended(within: 30)
        #expect(demo.process.terminationReason == .exit, "ended by its own exit, not by the signal")
        try await Self.expectNothingLeft(of: directory)
    }

    @Test func aReaderThatGoesAwayStopsEverythingTheDemoStarted() async throws {
        // `slipway demo | head -n 8`: head leaves once it has the first lines, and the demo's next line has no reader.
        let demo = try RunningDemo(throughHead: 8)
        defer { demo.kill() }
        let directory = try await demo.serving()
        try await demo.ended(within: 30)
        // The demo itself is gone, by its own exit rather than by SIGPIPE, and so is everything it started.
        try await waitUntil("slipway demo ends", timeout: .seconds(30)) {
            Self.processes(naming: "\u{0}demo").filter { Self.commandLine(of: $0).hasSuffix("/slipway\u{0}demo\u{0}") }
                .isEmpty
        }
        try await Self.expectNothingLeft(of: directory)
    }
}
