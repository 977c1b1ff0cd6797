import ArgumentParser
import Foundation
import SlipwayConfig
import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// A controller started in the background (`slipway up --detach`, `slipway upgrade`), writing to `controller.log`
/// in the state directory.
enum BackgroundController {
    /// Starts `slipway up` in the background and waits until its API accepts connections (or it exits).
    static func start(config: SlipwayConfig, file: String, quiet: Bool, logFormat: LogFormat = .text) async throws {
        let directory = config.controller.stateDirectory
        if let pid = ControllerProcess.runningPid(stateDirectory: directory) {
            FileHandle.standardErrorWrite("a controller (pid \(pid)) already runs with state directory \(directory)")
            throw ExitCode(ExitStatus.badInput)
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = directory + "/controller.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            process.executableURL = URL(fileURLWithPath: me)
        }
        process.arguments =
            ["up", "-f", file, "--background", "--log-format", logFormat.rawValue] + (quiet ? ["--quiet"] : [])
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        let api = config.controller.api
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let tail =
                    (try? String(contentsOfFile: logPath, encoding: .utf8))?
                    .split(separator: "\n").suffix(5).joined(separator: "\n") ?? ""
                FileHandle.standardErrorWrite(
                    "the controller exited with status \(process.terminationStatus):\n\(tail)"
                )
                throw ExitCode(process.terminationStatus == 0 ? ExitStatus.badInput : process.terminationStatus)
            }
            if ControllerProcess.runningPid(stateDirectory: directory) == process.processIdentifier,
                api.port == 0 || Self.accepts(host: api.host, port: api.port)
            {
                print("controller running in the background (pid \(process.processIdentifier)); log: \(logPath)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        FileHandle.standardErrorWrite("the controller did not answer within 60s; see \(logPath)")
        throw ExitCode(ExitStatus.unreachable)
    }

    private static func accepts(host: String, port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let literal = host == "0.0.0.0" || host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, literal, &address.sin_addr) == 1 else { return true }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
