import Foundation

/// Runs the labs' scripts and programs (`Tests/Fixtures/ssh-lab`, `kube-lab`, `ssh`) for tests.
enum LabScript {
    /// Runs `body` with `lab`, then `stop`s it however `body` ends.
    static func using<Lab: Sendable, T: Sendable>(
        _ lab: Lab,
        stop: (Lab) async -> Void,
        _ body: (Lab) async throws -> T
    ) async throws -> T {
        do {
            let result = try await body(lab)
            await stop(lab)
            return result
        } catch {
            await stop(lab)
            throw error
        }
    }

    /// Runs `work` on a thread of its own and waits for it without holding a thread of the tasks' pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try work() })
            }
            thread.start()
        }
    }

    /// Runs a program to completion (killed after `seconds`), with its standard output and error together.
    static func run(
        _ path: String,
        _ arguments: [String],
        seconds: Double = 30
    ) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: killer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
