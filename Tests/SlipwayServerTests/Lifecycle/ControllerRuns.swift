import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The `slipway up` processes a test service starts in its folder, one after the other, each writing to
/// `up-N.log`: the last one is the running controller.
final class ControllerRuns: ServiceDirectory, @unchecked Sendable {
    let directory: String
    private var processes: [Process] = []

    init(directory: String) {
        self.directory = directory
    }

    /// Whether the last controller started still runs.
    var isRunning: Bool { processes.last?.isRunning == true }

    /// Starts `slipway up` (it attaches to what runs, or starts it).
    func start() throws {
        processes.append(try launchController(log: "up-\(processes.count + 1).log"))
    }

    /// `kill -9` of the running controller; returns once it is gone.
    func kill() {
        guard let process = processes.last, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM to the running controller, SIGKILL if it still runs 30 s later.
    func terminate() async {
        guard let process = processes.last, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// What the controllers wrote, the first one's first.
    var log: String {
        (1...max(1, processes.count)).map {
            (try? String(contentsOfFile: directory + "/up-\($0).log", encoding: .utf8)) ?? ""
        }.joined(separator: "\n--- next controller ---\n")
    }
}
