import Foundation
import SlipwayProxy

#if canImport(Glibc)
import Glibc
#endif

/// Replaces the data plane serving a state directory with this build's, without closing a port: the new one takes
/// the listening sockets over, the old one finishes its open connections and exits.
public enum DataPlaneUpgrade {
    /// What happened.
    public struct Outcome: Sendable {
        /// The data plane that served before.
        public var oldPid: Int32
        /// The one serving now.
        public var newPid: Int32
        /// Its build.
        public var build: String
    }

    /// Why it could not be done; the old data plane still serves then.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `slipway-dataplane --take-over` beside the running one and waits until it serves and answers on the
    /// control socket. Nil when no data plane runs for `stateDirectory` (there is nothing to replace). The new one
    /// writes its messages in `logFormat`.
    public static func run(
        stateDirectory: String,
        threads: Int,
        logFormat: LogFormat = .text,
        tracing: TracingExport? = nil
    ) async throws(Failure) -> Outcome? {
        let paths = DataPlanePaths(stateDirectory: stateDirectory)
        let old = DataPlaneClient(path: paths.socket)
        guard let before = try? await old.connect() else { return nil }
        await old.disconnect()
        let executable = DataPlaneLink.sibling("slipway-dataplane")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--state", stateDirectory, "--threads", String(threads), "--take-over", "--log-format",
                logFormat.rawValue,
            ] + (tracing?.arguments ?? [])
        do {
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: paths.log))
            log.seekToEndOfFile()
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try? log.close()
        } catch {
            throw Failure(description: "cannot start \(executable): \(error)")
        }
        let deadline = ContinuousClock.now + .seconds(60)
        let client = DataPlaneClient(path: paths.socket)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let tail =
                    (try? String(contentsOfFile: paths.log, encoding: .utf8))?
                    .split(separator: "\n").suffix(3).joined(separator: " | ") ?? ""
                throw Failure(
                    description: "the new data plane exited with status \(process.terminationStatus): \(tail)"
                )
            }
            if let status = try? await client.connect(), status.pid == process.processIdentifier {
                await client.disconnect()
                return Outcome(oldPid: before.pid, newPid: status.pid, build: status.build)
            }
            await client.disconnect()
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "the new data plane did not take over within 60s (see \(paths.log))")
    }
}
