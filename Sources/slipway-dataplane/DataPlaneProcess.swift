import Foundation
import SlipwayCore
import SlipwayProxy
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide facts of the data plane's process.
enum DataPlaneProcess {
    /// Set by SIGTERM or a `shutdown` request; the main loop notices it within 50 ms.
    static let stopRequested = Atomic<Bool>(false)
    /// Set once the listeners went to a newer data plane.
    static let handedOver = Atomic<Bool>(false)
    /// Set by `--log-format json`: messages are JSON lines (``JSONLogLine``) instead of text.
    static let jsonLogs = Atomic<Bool>(false)

    /// Writes a message to standard error: `slipway-dataplane: message`, or a JSON line with `level`.
    static func say(_ level: String, _ message: String) {
        let line =
            jsonLogs.load(ordering: .relaxed)
            ? JSONLogLine.line(
                time: Date(),
                level: level,
                label: "slipway-dataplane",
                message: message,
                metadata: ["pid": .int(Int(getpid()))],
                source: "slipway-dataplane"
            )
            : "slipway-dataplane: \(message)"
        FileHandleless.write(2, line + "\n")
    }

    /// Takes the listeners of the data plane serving `paths` over: asks it to hand over to a socket of this
    /// process, serves what arrives, and returns what could not be restored.
    static func takeOver(_ paths: DataPlanePaths, into dataPlane: DataPlane) async throws -> [String] {
        let directory = String(paths.socket.dropLast("/dataplane.sock".count))
        let receiver = try HandOver.Receiver(path: "\(directory)/handover-\(getpid()).sock")
        let old = DataPlaneClient(path: paths.socket)
        try await old.connect()
        let asked = Task { try await old.handOver(to: receiver.path) }
        do {
            let problems = try await receiver.receive(into: dataPlane)
            try await asked.value
            await old.disconnect()
            return problems
        } catch {
            asked.cancel()
            await old.disconnect()
            throw error
        }
    }

    /// Records this process's id for `slipway status` and for a controller that finds a socket but no answer.
    static func writePid(_ path: String) {
        let temporary = "\(path).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        FileHandleless.write(fd, "\(getpid())\n")
        close(fd)
        rename(temporary, path)
    }
}

/// Writes text to a descriptor without Foundation.
enum FileHandleless {
    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
